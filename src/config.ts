// Configuration: environment + `.env` + CLI flags -> one frozen, validated Config.
// Pure: reads files (the .env, realpaths) but creates nothing, so a bad start leaves no trace on
// disk. Every problem is collected; the caller prints them all at once and exits 1.
import { accessSync, constants, existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { parseEnv } from "node:util";

export type Transport = "stdio" | "streamable-http";
export type ExecutionBackendName = "api" | "claude_code";
export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL";
export type OperatorPreset =
  | "safe_default"
  | "continuity_optimized"
  | "mediation_enabled"
  | "workflow_limited";

export interface ClaudeCodeConfig {
  /** Resolved CLI path; "" when the backend is not claude_code and the CLI was not found. */
  cliPath: string;
  /** The raw configured path (may be empty). */
  configuredCliPath: string;
  timeoutSeconds: number;
  limitedToolForwarding: boolean;
  maxContinuationTurns: number;
  maxContinuationWarnings: number;
  maxContinuationForwardingEvents: number;
  includeVerificationContext: boolean;
  includeToolDowngradeContext: boolean;
  enableExecutionMediation: boolean;
  maxMediatedActionsPerTurn: number;
  allowedMediatedActionTypes: string[];
  includeMediatedResultsInContinuation: boolean;
  maxMediatedWorkflowSteps: number;
  allowedMediatedTools: string[];
  deniedMediatedTools: string[];
  maxSessionMediatedApprovals: number;
  includeRejectedMediationInContinuation: boolean;
  mediationPolicyProfile: string;
  /** null = per-profile defaults (see backends/claude-code). */
  allowedTools: string[] | null;
  disallowedTools: string[] | null;
  inheritApiKey: boolean;
}

export interface Config {
  mode: "standard";
  transport: Transport;
  host: string;
  port: number;
  stateDir: string;
  dbPath: string;
  artifactDir: string;
  model: string;
  lockTtlSeconds: number;
  allowedDirs: string[];
  maxArtifactBytes: number;
  logLevel: LogLevel;
  logFile: string | null;
  operatorPreset: OperatorPreset | null;
  executionBackend: ExecutionBackendName;
  anthropicApiKey: string;
  anthropicBaseUrl: string | null;
  /** SDK retries for 429/5xx/connection errors before a run fails. */
  apiMaxRetries: number;
  claudeCode: ClaudeCodeConfig;
  federationEnabled: boolean;
  federationConfigPath: string | null;
  httpAuthToken: string | null;
  httpAllowedHosts: string[];
  workspaceTools: boolean;
  defaultWaitSeconds: number;
  progressIntervalSeconds: number;
  /** Where the .env was read from, if any. */
  envFile: string | null;
}

export interface CliFlags {
  transport?: string;
  host?: string;
  port?: string;
  envFile?: string;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

const PRESETS: Record<OperatorPreset, Partial<Record<string, boolean | number | string>>> = {
  safe_default: {
    ENABLE_EXECUTION_MEDIATION: false,
    MAX_CONTINUATION_TURNS: 5,
    MAX_CONTINUATION_WARNINGS: 3,
    MAX_CONTINUATION_FORWARDING_EVENTS: 3,
    INCLUDE_VERIFICATION_CONTEXT: true,
    INCLUDE_TOOL_DOWNGRADE_CONTEXT: true,
    MAX_MEDIATED_ACTIONS_PER_TURN: 1,
    MAX_MEDIATED_WORKFLOW_STEPS: 1,
    MAX_SESSION_MEDIATED_APPROVALS: 10,
    INCLUDE_MEDIATED_RESULTS_IN_CONTINUATION: false,
    INCLUDE_REJECTED_MEDIATION_IN_CONTINUATION: false,
    MEDIATION_POLICY_PROFILE: "conservative",
  },
  continuity_optimized: {
    ENABLE_EXECUTION_MEDIATION: false,
    MAX_CONTINUATION_TURNS: 10,
    MAX_CONTINUATION_WARNINGS: 5,
    MAX_CONTINUATION_FORWARDING_EVENTS: 5,
    INCLUDE_VERIFICATION_CONTEXT: true,
    INCLUDE_TOOL_DOWNGRADE_CONTEXT: true,
    MAX_MEDIATED_ACTIONS_PER_TURN: 1,
    MAX_MEDIATED_WORKFLOW_STEPS: 1,
    MAX_SESSION_MEDIATED_APPROVALS: 10,
    INCLUDE_MEDIATED_RESULTS_IN_CONTINUATION: true,
    INCLUDE_REJECTED_MEDIATION_IN_CONTINUATION: false,
    MEDIATION_POLICY_PROFILE: "conservative",
  },
  mediation_enabled: {
    ENABLE_EXECUTION_MEDIATION: true,
    MAX_CONTINUATION_TURNS: 5,
    MAX_CONTINUATION_WARNINGS: 3,
    MAX_CONTINUATION_FORWARDING_EVENTS: 3,
    INCLUDE_VERIFICATION_CONTEXT: true,
    INCLUDE_TOOL_DOWNGRADE_CONTEXT: true,
    MAX_MEDIATED_ACTIONS_PER_TURN: 3,
    MAX_MEDIATED_WORKFLOW_STEPS: 1,
    MAX_SESSION_MEDIATED_APPROVALS: 50,
    INCLUDE_MEDIATED_RESULTS_IN_CONTINUATION: true,
    INCLUDE_REJECTED_MEDIATION_IN_CONTINUATION: false,
    MEDIATION_POLICY_PROFILE: "mediation_enabled",
  },
  workflow_limited: {
    ENABLE_EXECUTION_MEDIATION: true,
    MAX_CONTINUATION_TURNS: 5,
    MAX_CONTINUATION_WARNINGS: 3,
    MAX_CONTINUATION_FORWARDING_EVENTS: 3,
    INCLUDE_VERIFICATION_CONTEXT: true,
    INCLUDE_TOOL_DOWNGRADE_CONTEXT: true,
    MAX_MEDIATED_ACTIONS_PER_TURN: 5,
    MAX_MEDIATED_WORKFLOW_STEPS: 3,
    MAX_SESSION_MEDIATED_APPROVALS: 30,
    INCLUDE_MEDIATED_RESULTS_IN_CONTINUATION: true,
    INCLUDE_REJECTED_MEDIATION_IN_CONTINUATION: false,
    MEDIATION_POLICY_PROFILE: "workflow_limited",
  },
};

/**
 * Every environment variable the server reads, with its legacy fallback. The README's
 * configuration table is checked against this list by a test.
 */
export const ENV_VARS = [
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_BASE_URL",
  "CLAUDE_AGENT_MCP_MODE",
  "CLAUDE_AGENT_MCP_TRANSPORT",
  "CLAUDE_AGENT_MCP_HOST",
  "CLAUDE_AGENT_MCP_PORT",
  "CLAUDE_AGENT_MCP_STATE_DIR",
  "CLAUDE_AGENT_MCP_DB_PATH",
  "CLAUDE_AGENT_MCP_ARTIFACT_DIR",
  "CLAUDE_AGENT_MCP_MODEL",
  "CLAUDE_AGENT_MCP_LOCK_TTL",
  "CLAUDE_AGENT_MCP_ALLOWED_DIRS",
  "CLAUDE_AGENT_MCP_MAX_ARTIFACT_BYTES",
  "CLAUDE_AGENT_MCP_LOG_LEVEL",
  "CLAUDE_AGENT_MCP_LOG_FILE",
  "CLAUDE_AGENT_MCP_OPERATOR_PROFILE",
  "CLAUDE_AGENT_MCP_EXECUTION_BACKEND",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_TIMEOUT",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_LIMITED_TOOL_FORWARDING",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_CONTINUATION_TURNS",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_CONTINUATION_WARNINGS",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_CONTINUATION_FORWARDING_EVENTS",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_INCLUDE_VERIFICATION_CONTEXT",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_INCLUDE_TOOL_DOWNGRADE_CONTEXT",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_ENABLE_EXECUTION_MEDIATION",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_MEDIATED_ACTIONS_PER_TURN",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_ALLOWED_MEDIATED_ACTION_TYPES",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_INCLUDE_MEDIATED_RESULTS_IN_CONTINUATION",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_MEDIATED_WORKFLOW_STEPS",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_ALLOWED_MEDIATED_TOOLS",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_DENIED_MEDIATED_TOOLS",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_SESSION_MEDIATED_APPROVALS",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_INCLUDE_REJECTED_MEDIATION_IN_CONTINUATION",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_MEDIATION_POLICY_PROFILE",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_ALLOWED_TOOLS",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_DISALLOWED_TOOLS",
  "CLAUDE_AGENT_MCP_CLAUDE_CODE_INHERIT_API_KEY",
  "CLAUDE_AGENT_MCP_FEDERATION_ENABLED",
  "CLAUDE_AGENT_MCP_FEDERATION_CONFIG",
  "CLAUDE_AGENT_MCP_HTTP_AUTH_TOKEN",
  "CLAUDE_AGENT_MCP_HTTP_ALLOWED_HOSTS",
  "CLAUDE_AGENT_MCP_WORKSPACE_TOOLS",
  "CLAUDE_AGENT_MCP_DEFAULT_WAIT_SECONDS",
  "CLAUDE_AGENT_MCP_PROGRESS_INTERVAL",
  "CLAUDE_AGENT_MCP_API_MAX_RETRIES",
] as const;

export const LEGACY_ENV_VARS: Record<string, string> = {
  CLAUDE_AGENT_MCP_STATE_DIR: "CLAUDE_AGENT_STATE_DIR",
  CLAUDE_AGENT_MCP_MODEL: "CLAUDE_AGENT_MODEL",
  CLAUDE_AGENT_MCP_LOCK_TTL: "CLAUDE_AGENT_LOCK_TTL_SECONDS",
  CLAUDE_AGENT_MCP_ALLOWED_DIRS: "CLAUDE_AGENT_ALLOWED_DIRS",
  CLAUDE_AGENT_MCP_MAX_ARTIFACT_BYTES: "CLAUDE_AGENT_MAX_ARTIFACT_BYTES",
  CLAUDE_AGENT_MCP_LOG_LEVEL: "CLAUDE_AGENT_LOG_LEVEL",
};

const LOG_LEVELS: LogLevel[] = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
const DEFAULT_ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "::1"];
const MEDIATED_ACTION_TYPES = ["read", "lookup", "inspect"];

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

function show(value: string): string {
  return JSON.stringify(value);
}

/** Reads a `.env` file into a map. Missing default file is fine; a missing explicit file is not. */
export function readEnvFile(path: string): Record<string, string> {
  return parseEnv(readFileSync(path, "utf8")) as Record<string, string>;
}

/** Realpath of the longest existing prefix, then the rest appended: `Path.resolve()` semantics. */
export function resolvePath(p: string, cwd: string): string {
  const abs = resolve(cwd, p);
  let head = abs;
  const tail: string[] = [];
  for (;;) {
    try {
      const real = realpathSync(head);
      return tail.length ? join(real, ...tail.reverse()) : real;
    } catch {
      const parent = dirname(head);
      if (parent === head) return abs;
      tail.push(head.slice(parent.length).replace(/^[/\\]/, ""));
      head = parent;
    }
  }
}

/** True when `p` (or, if missing, its nearest existing ancestor) is a writable directory. */
function writableDir(p: string): boolean {
  let cur = p;
  for (;;) {
    if (existsSync(cur)) {
      try {
        if (!statSync(cur).isDirectory()) return false;
        accessSync(cur, constants.W_OK | constants.X_OK);
        return true;
      } catch {
        return false;
      }
    }
    const parent = dirname(cur);
    if (parent === cur) return false;
    cur = parent;
  }
}

/** Finds an executable on PATH (Windows: PATHEXT, so `claude.cmd` is found). */
export function findOnPath(name: string, env: NodeJS.ProcessEnv): string | null {
  const exts =
    process.platform === "win32" ? (env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";").concat([""]) : [""];
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = join(dir, name + ext);
      try {
        if (statSync(candidate).isFile()) {
          if (process.platform !== "win32") accessSync(candidate, constants.X_OK);
          return candidate;
        }
      } catch {
        // not here
      }
    }
  }
  return null;
}

export function resolveClaudeCli(configured: string, cwd: string, env: NodeJS.ProcessEnv): string | null {
  if (configured) {
    const p = isAbsolute(configured) ? configured : resolve(cwd, configured);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // fall through to PATH, as upstream does
    }
  }
  return findOnPath("claude", env);
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  flags?: CliFlags;
  cwd?: string;
}

export function loadConfig(opts: LoadOptions = {}): ConfigResult {
  const cwd = opts.cwd ?? process.cwd();
  const flags = opts.flags ?? {};
  const problems: string[] = [];
  const realEnv = opts.env ?? process.env;

  // .env: from --env-file, else ./.env in the working directory. Real env always wins.
  let fileEnv: Record<string, string> = {};
  let envFile: string | null = null;
  const explicit = flags.envFile;
  const candidate = explicit ? resolve(cwd, explicit) : join(cwd, ".env");
  if (existsSync(candidate)) {
    try {
      fileEnv = readEnvFile(candidate);
      envFile = candidate;
    } catch (err) {
      problems.push(`--env-file: cannot read ${show(candidate)}: ${(err as Error).message}`);
    }
  } else if (explicit) {
    problems.push(`--env-file: file not found: ${show(candidate)}`);
  }
  // Real environment variables win over the file; an empty one counts as unset.
  const env: Record<string, string | undefined> = { ...fileEnv };
  for (const [k, v] of Object.entries(realEnv)) if (v !== undefined && v !== "") env[k] = v;

  const raw = (name: string): string | undefined => {
    const v = env[name];
    if (v !== undefined && v !== "") return v;
    const legacy = LEGACY_ENV_VARS[name];
    if (legacy) {
      const lv = env[legacy];
      if (lv !== undefined && lv !== "") return lv;
    }
    return undefined;
  };
  const nameOf = (name: string): string => {
    const v = env[name];
    if ((v === undefined || v === "") && LEGACY_ENV_VARS[name] && env[LEGACY_ENV_VARS[name]]) {
      return LEGACY_ENV_VARS[name];
    }
    return name;
  };

  const str = (name: string, def: string): string => raw(name) ?? def;
  const int = (name: string, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const v = raw(name);
    if (v === undefined) return def;
    const t = v.trim();
    if (!/^[+-]?\d+$/.test(t)) {
      problems.push(`${nameOf(name)}: expected an integer, got ${show(v)}`);
      return def;
    }
    const n = Number(t);
    if (n < min || n > max) {
      problems.push(
        `${nameOf(name)}: ${n} is out of range (${min}..${max === Number.MAX_SAFE_INTEGER ? "" : max})`,
      );
      return def;
    }
    return n;
  };
  const bool = (name: string, def: boolean): boolean => {
    const v = raw(name);
    if (v === undefined) return def;
    const t = v.trim().toLowerCase();
    if (["true", "1", "yes", "on"].includes(t)) return true;
    if (["false", "0", "no", "off"].includes(t)) return false;
    problems.push(`${nameOf(name)}: expected true/false (or 1/0, yes/no), got ${show(v)}`);
    return def;
  };
  const list = (name: string): string[] | null => {
    const v = raw(name);
    if (v === undefined) return null;
    return v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  };
  const oneOf = <T extends string>(name: string, value: string, allowed: readonly T[]): T => {
    if ((allowed as readonly string[]).includes(value)) return value as T;
    problems.push(`${nameOf(name)}: ${show(value)} is not one of ${allowed.join(", ")}`);
    return allowed[0];
  };

  // Mode: only standard is implemented.
  const mode = str("CLAUDE_AGENT_MCP_MODE", "standard").trim().toLowerCase();
  if (mode !== "standard") {
    problems.push(
      `CLAUDE_AGENT_MCP_MODE: ${show(mode)} is not supported (only "standard"; APNTalk mode is not part of this release)`,
    );
  }

  const transportRaw = flags.transport ?? str("CLAUDE_AGENT_MCP_TRANSPORT", "stdio").trim().toLowerCase();
  const transport = oneOf<Transport>("CLAUDE_AGENT_MCP_TRANSPORT", transportRaw, [
    "stdio",
    "streamable-http",
  ]);
  const host = (flags.host ?? str("CLAUDE_AGENT_MCP_HOST", "127.0.0.1")).trim();
  let port = 8000;
  if (flags.port !== undefined) {
    if (/^\d+$/.test(flags.port) && Number(flags.port) >= 1 && Number(flags.port) <= 65535) {
      port = Number(flags.port);
    } else {
      problems.push(`CLAUDE_AGENT_MCP_PORT (--port): expected a port 1..65535, got ${show(flags.port)}`);
    }
  } else {
    port = int("CLAUDE_AGENT_MCP_PORT", 8000, 1, 65535);
  }
  if (transport === "streamable-http" && !host) problems.push("CLAUDE_AGENT_MCP_HOST: must not be empty");

  const stateDir = resolvePath(str("CLAUDE_AGENT_MCP_STATE_DIR", ".state").trim(), cwd);
  const dbPathRaw = raw("CLAUDE_AGENT_MCP_DB_PATH");
  const dbPath = dbPathRaw ? resolvePath(dbPathRaw.trim(), cwd) : join(stateDir, "claude-agent-mcp.db");
  const artifactRaw = raw("CLAUDE_AGENT_MCP_ARTIFACT_DIR");
  const artifactDir = artifactRaw ? resolvePath(artifactRaw.trim(), cwd) : join(stateDir, "artifacts");
  for (const [name, dir] of [
    ["CLAUDE_AGENT_MCP_STATE_DIR", stateDir],
    ["CLAUDE_AGENT_MCP_ARTIFACT_DIR", artifactDir],
    ["CLAUDE_AGENT_MCP_DB_PATH", dirname(dbPath)],
  ] as const) {
    if (!writableDir(dir)) problems.push(`${nameOf(name)}: ${show(dir)} is not a writable directory`);
  }

  const model = str("CLAUDE_AGENT_MCP_MODEL", "claude-sonnet-4-6").trim();
  const lockTtlSeconds = int("CLAUDE_AGENT_MCP_LOCK_TTL", 300, 5);
  const allowedDirs = (list("CLAUDE_AGENT_MCP_ALLOWED_DIRS") ?? [cwd]).map((d) => resolvePath(d, cwd));
  if (allowedDirs.length === 0) problems.push("CLAUDE_AGENT_MCP_ALLOWED_DIRS: no directory given");
  const maxArtifactBytes = int("CLAUDE_AGENT_MCP_MAX_ARTIFACT_BYTES", 10 * 1024 * 1024, 1);

  const logLevelRaw = str("CLAUDE_AGENT_MCP_LOG_LEVEL", "INFO").trim().toUpperCase();
  const logLevel = oneOf<LogLevel>(
    "CLAUDE_AGENT_MCP_LOG_LEVEL",
    logLevelRaw === "WARN" ? "WARNING" : logLevelRaw,
    LOG_LEVELS,
  );
  const logFileRaw = raw("CLAUDE_AGENT_MCP_LOG_FILE");
  const logFile = logFileRaw ? resolvePath(logFileRaw.trim(), cwd) : null;
  if (logFile && !writableDir(dirname(logFile))) {
    problems.push(`CLAUDE_AGENT_MCP_LOG_FILE: directory of ${show(logFile)} is not writable`);
  }

  const presetRaw = raw("CLAUDE_AGENT_MCP_OPERATOR_PROFILE")?.trim().toLowerCase();
  let operatorPreset: OperatorPreset | null = null;
  if (presetRaw) {
    if (presetRaw in PRESETS) operatorPreset = presetRaw as OperatorPreset;
    else
      problems.push(
        `CLAUDE_AGENT_MCP_OPERATOR_PROFILE: unknown preset ${show(presetRaw)} (expected one of ${Object.keys(PRESETS).join(", ")})`,
      );
  }
  const preset = operatorPreset ? PRESETS[operatorPreset] : {};
  const ccInt = (suffix: string, def: number, min = 0) =>
    int(`CLAUDE_AGENT_MCP_CLAUDE_CODE_${suffix}`, (preset[suffix] as number | undefined) ?? def, min);
  const ccBool = (suffix: string, def: boolean) =>
    bool(`CLAUDE_AGENT_MCP_CLAUDE_CODE_${suffix}`, (preset[suffix] as boolean | undefined) ?? def);

  const backendRaw = str("CLAUDE_AGENT_MCP_EXECUTION_BACKEND", "api").trim().toLowerCase();
  const executionBackend = oneOf<ExecutionBackendName>("CLAUDE_AGENT_MCP_EXECUTION_BACKEND", backendRaw, [
    "api",
    "claude_code",
  ]);
  const anthropicApiKey = env.ANTHROPIC_API_KEY ?? "";
  if (backendRaw === "api" && !anthropicApiKey.trim()) {
    problems.push(
      "ANTHROPIC_API_KEY: not set; the api backend needs it (or set CLAUDE_AGENT_MCP_EXECUTION_BACKEND=claude_code)",
    );
  }

  const configuredCliPath = str("CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH", "").trim();
  const cliPath = resolveClaudeCli(configuredCliPath, cwd, realEnv) ?? "";
  if (executionBackend === "claude_code" && !cliPath) {
    problems.push(
      configuredCliPath
        ? `CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH: ${show(configuredCliPath)} is not a file and no \`claude\` was found on PATH`
        : "CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH: not set and no `claude` executable found on PATH (install Claude Code or set the path)",
    );
  }

  const actionTypes = list("CLAUDE_AGENT_MCP_CLAUDE_CODE_ALLOWED_MEDIATED_ACTION_TYPES") ?? [];
  for (const t of actionTypes) {
    if (!MEDIATED_ACTION_TYPES.includes(t)) {
      problems.push(
        `CLAUDE_AGENT_MCP_CLAUDE_CODE_ALLOWED_MEDIATED_ACTION_TYPES: ${show(t)} is not one of ${MEDIATED_ACTION_TYPES.join(", ")}`,
      );
    }
  }

  const claudeCode: ClaudeCodeConfig = {
    cliPath,
    configuredCliPath,
    timeoutSeconds: int("CLAUDE_AGENT_MCP_CLAUDE_CODE_TIMEOUT", 300, 1),
    limitedToolForwarding: bool("CLAUDE_AGENT_MCP_CLAUDE_CODE_LIMITED_TOOL_FORWARDING", false),
    maxContinuationTurns: ccInt("MAX_CONTINUATION_TURNS", 5),
    maxContinuationWarnings: ccInt("MAX_CONTINUATION_WARNINGS", 3),
    maxContinuationForwardingEvents: ccInt("MAX_CONTINUATION_FORWARDING_EVENTS", 3),
    includeVerificationContext: ccBool("INCLUDE_VERIFICATION_CONTEXT", true),
    includeToolDowngradeContext: ccBool("INCLUDE_TOOL_DOWNGRADE_CONTEXT", true),
    enableExecutionMediation: ccBool("ENABLE_EXECUTION_MEDIATION", false),
    maxMediatedActionsPerTurn: ccInt("MAX_MEDIATED_ACTIONS_PER_TURN", 1),
    allowedMediatedActionTypes: actionTypes,
    includeMediatedResultsInContinuation: ccBool("INCLUDE_MEDIATED_RESULTS_IN_CONTINUATION", false),
    maxMediatedWorkflowSteps: ccInt("MAX_MEDIATED_WORKFLOW_STEPS", 1),
    allowedMediatedTools: list("CLAUDE_AGENT_MCP_CLAUDE_CODE_ALLOWED_MEDIATED_TOOLS") ?? [],
    deniedMediatedTools: list("CLAUDE_AGENT_MCP_CLAUDE_CODE_DENIED_MEDIATED_TOOLS") ?? [],
    maxSessionMediatedApprovals: ccInt("MAX_SESSION_MEDIATED_APPROVALS", 100),
    includeRejectedMediationInContinuation: ccBool("INCLUDE_REJECTED_MEDIATION_IN_CONTINUATION", false),
    mediationPolicyProfile: (
      raw("CLAUDE_AGENT_MCP_CLAUDE_CODE_MEDIATION_POLICY_PROFILE") ??
      (preset.MEDIATION_POLICY_PROFILE as string | undefined) ??
      "conservative"
    ).trim(),
    allowedTools: list("CLAUDE_AGENT_MCP_CLAUDE_CODE_ALLOWED_TOOLS"),
    disallowedTools: list("CLAUDE_AGENT_MCP_CLAUDE_CODE_DISALLOWED_TOOLS"),
    inheritApiKey: bool("CLAUDE_AGENT_MCP_CLAUDE_CODE_INHERIT_API_KEY", false),
  };

  const federationEnabled = bool("CLAUDE_AGENT_MCP_FEDERATION_ENABLED", false);
  const fedRaw = raw("CLAUDE_AGENT_MCP_FEDERATION_CONFIG");
  const federationConfigPath = fedRaw ? resolvePath(fedRaw.trim(), cwd) : null;
  if (federationEnabled && !federationConfigPath) {
    problems.push("CLAUDE_AGENT_MCP_FEDERATION_CONFIG: federation is enabled but no config file is set");
  }

  const httpAuthToken = raw("CLAUDE_AGENT_MCP_HTTP_AUTH_TOKEN") ?? null;
  const extraHosts = list("CLAUDE_AGENT_MCP_HTTP_ALLOWED_HOSTS");
  const httpAllowedHosts = extraHosts ?? DEFAULT_ALLOWED_HOSTS;
  if (transport === "streamable-http" && host && !isLoopbackHost(host) && !httpAuthToken) {
    problems.push(
      `CLAUDE_AGENT_MCP_HOST: refusing to bind non-loopback host ${show(host)} without CLAUDE_AGENT_MCP_HTTP_AUTH_TOKEN`,
    );
  }

  const config: Config = {
    mode: "standard",
    transport,
    host,
    port,
    stateDir,
    dbPath,
    artifactDir,
    model,
    lockTtlSeconds,
    allowedDirs,
    maxArtifactBytes,
    logLevel,
    logFile,
    operatorPreset,
    executionBackend,
    anthropicApiKey,
    anthropicBaseUrl: env.ANTHROPIC_BASE_URL || null,
    apiMaxRetries: int("CLAUDE_AGENT_MCP_API_MAX_RETRIES", 2, 0, 10),
    claudeCode,
    federationEnabled,
    federationConfigPath,
    httpAuthToken,
    httpAllowedHosts,
    workspaceTools: bool("CLAUDE_AGENT_MCP_WORKSPACE_TOOLS", true),
    defaultWaitSeconds: int("CLAUDE_AGENT_MCP_DEFAULT_WAIT_SECONDS", 0, 0),
    progressIntervalSeconds: int("CLAUDE_AGENT_MCP_PROGRESS_INTERVAL", 15, 1),
    envFile,
  };
  if (problems.length) return { ok: false, problems };
  return { ok: true, config: Object.freeze(config) };
}

/** The one clean message printed on a bad start. */
export function formatProblems(problems: string[]): string {
  return [
    `claude-agent-mcp: ${problems.length} configuration problem${problems.length === 1 ? "" : "s"}; not starting:`,
    ...problems.map((p) => `  - ${p}`),
    "",
  ].join("\n");
}
