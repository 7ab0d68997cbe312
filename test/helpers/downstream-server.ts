// Helpers for federation tests: paths of the downstream test servers, config builders, an HTTP
// downstream in a child process, and a logger that records lines in memory.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pino from "pino";
import type { ToolContext } from "../../src/backends/backend.js";
import type {
  DownstreamServerConfig,
  HttpServerConfig,
  StdioServerConfig,
} from "../../src/federation/config.js";
import type { Logger } from "../../src/log.js";

const here = dirname(fileURLToPath(import.meta.url));

/** Our scripted downstream (see the flags at the top of the file). */
export const DOWNSTREAM_SERVER = join(here, "downstream-server.mjs");

/** The published @modelcontextprotocol/server-everything entry point (`node <it> stdio`). */
export const EVERYTHING_SERVER = join(
  dirname(createRequire(import.meta.url).resolve("@modelcontextprotocol/server-everything/package.json")),
  "dist",
  "index.js",
);

export function stdioServer(
  name: string,
  over: Partial<StdioServerConfig> & { flags?: string[] } = {},
): DownstreamServerConfig {
  const { flags = [], ...rest } = over;
  return {
    name,
    transport: "stdio",
    command: process.execPath,
    args: [DOWNSTREAM_SERVER, "--name", name, ...flags],
    env: {},
    cwd: null,
    description: null,
    enabled: true,
    discoveryTimeoutSeconds: 10,
    callTimeoutSeconds: 10,
    maxResultChars: 50_000,
    allowedTools: ["echo"],
    profilesAllowed: ["general"],
    readOnly: false,
    ...(rest as object),
  } as DownstreamServerConfig;
}

export function httpServer(
  name: string,
  url: string,
  over: Partial<HttpServerConfig> = {},
): DownstreamServerConfig {
  return {
    name,
    transport: "http",
    url,
    headers: {},
    description: null,
    enabled: true,
    discoveryTimeoutSeconds: 10,
    callTimeoutSeconds: 10,
    maxResultChars: 50_000,
    allowedTools: ["echo"],
    profilesAllowed: ["general"],
    readOnly: false,
    ...(over as object),
  } as DownstreamServerConfig;
}

export interface HttpDownstream {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Starts downstream-server.mjs over streamable HTTP on loopback (port 0 = any) in a child process. */
export function startHttpDownstream(
  opts: { port?: number; env?: Record<string, string>; flags?: string[] } = {},
): Promise<HttpDownstream> {
  const child: ChildProcess = spawn(
    process.execPath,
    [DOWNSTREAM_SERVER, "--http", String(opts.port ?? 0), ...(opts.flags ?? [])],
    { stdio: ["ignore", "ignore", "pipe"], env: { PATH: process.env.PATH ?? "", ...opts.env } },
  );
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`http downstream did not start: ${buf}`)), 10_000);
    child.on("exit", (code) => reject(new Error(`http downstream exited ${code}: ${buf}`)));
    child.stderr?.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = /LISTENING (\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        const port = Number(m[1]);
        resolve({
          url: `http://127.0.0.1:${port}/mcp`,
          port,
          pid: child.pid!,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              child.once("exit", () => done());
              child.kill("SIGKILL");
            }),
        });
      }
    });
  });
}

/** Writes a federation config file in a fresh temp dir and returns its path. */
export function writeConfigFile(content: unknown, raw = false): string {
  const dir = mkdtempSync(join(tmpdir(), "fed-config-"));
  const path = join(dir, "federation.json");
  writeFileSync(path, raw ? String(content) : JSON.stringify(content, null, 2));
  return path;
}

export interface CapturedLogger {
  logger: Logger;
  lines: Record<string, unknown>[];
  text(): string;
}

/** A debug-level pino logger that keeps every line in memory. */
export function captureLogger(): CapturedLogger {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "debug" },
    {
      write(line: string) {
        lines.push(JSON.parse(line));
      },
    },
  );
  return { logger, lines, text: () => lines.map((l) => JSON.stringify(l)).join("\n") };
}

export function toolContext(signal?: AbortSignal): ToolContext {
  return { signal: signal ?? new AbortController().signal, sessionId: "sess-test", turnIndex: 0 };
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("waitFor: timed out");
    await new Promise((r) => setTimeout(r, 25));
  }
}
