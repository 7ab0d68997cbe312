// Logging: pino to stderr (fd 2) or CLAUDE_AGENT_MCP_LOG_FILE; never stdout, which is the MCP wire.
// Secret-bearing fields are redacted by path, and known secret values are scrubbed from messages.
import pino from "pino";
import type { LogLevel } from "./config.js";

export type Logger = pino.Logger;

const LEVELS: Record<LogLevel, pino.Level> = {
  DEBUG: "debug",
  INFO: "info",
  WARNING: "warn",
  ERROR: "error",
  CRITICAL: "fatal",
};

export interface LogOptions {
  level: LogLevel;
  file: string | null;
  /** Secret values (API key, HTTP token) that must never appear in a log line. */
  secrets?: string[];
}

export function createLogger(opts: LogOptions): Logger {
  const dest = opts.file
    ? pino.destination({ dest: opts.file, sync: true, mkdir: false })
    : pino.destination({ dest: 2, sync: true });
  const secrets = (opts.secrets ?? []).filter((s) => s && s.length >= 4);
  return pino(
    {
      name: "claude-agent-mcp",
      level: LEVELS[opts.level],
      redact: {
        paths: [
          "apiKey",
          "token",
          "authorization",
          "*.apiKey",
          "*.token",
          "*.authorization",
          "*.ANTHROPIC_API_KEY",
          "headers.authorization",
          "headers['x-api-key']",
        ],
        censor: "[redacted]",
      },
      ...(secrets.length
        ? {
            hooks: {
              logMethod(args, method) {
                const scrubbed = args.map((a) => (typeof a === "string" ? scrub(a, secrets) : a));
                method.apply(this, scrubbed as Parameters<typeof method>);
              },
            },
          }
        : {}),
    },
    dest,
  );
}

export function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join("[redacted]");
  return out;
}

/** A logger that drops everything (tests, CLI subcommands). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
