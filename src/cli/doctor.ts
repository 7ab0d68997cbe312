// `claude-agent-mcp doctor [--live] [--env-file <path>]`: a readiness report on stdout, one line
// per check (✓ pass, ✗ fail with a hint, ! warning, - info/skipped); exit 0 when nothing failed.
// Checks: configuration (every problem a failed check), state and artifact dirs writable, the DB
// opens and migrates (schema version, session count), backend readiness, federation config, and,
// with --live only, one tiny model call. Secrets (API key, tokens, federation headers) never appear.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type Config, loadConfig } from "../config.js";
import { VERSION } from "../version.js";

type Mark = "pass" | "fail" | "warn" | "info";

interface Line {
  mark: Mark;
  label: string;
  detail: string;
  hint?: string;
}

const SYMBOL: Record<Mark, string> = { pass: "✓", fail: "✗", warn: "!", info: "-" };
const LIVE_TIMEOUT_MS = 60_000;
const LIVE_PROMPT = "Reply with the single word OK.";

export interface DoctorOptions {
  envFile?: string;
  live: boolean;
  /** For tests: where the report goes (default stdout). */
  write?: (text: string) => void;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

class Report {
  private readonly sections: { title: string; lines: Line[] }[] = [];
  section(title: string): void {
    this.sections.push({ title, lines: [] });
  }
  add(mark: Mark, label: string, detail: string, hint?: string): void {
    this.sections[this.sections.length - 1].lines.push({ mark, label, detail, hint });
  }
  get failures(): number {
    return this.sections.reduce((n, s) => n + s.lines.filter((l) => l.mark === "fail").length, 0);
  }
  get checks(): number {
    return this.sections.reduce(
      (n, s) => n + s.lines.filter((l) => l.mark === "pass" || l.mark === "fail").length,
      0,
    );
  }
  render(): string {
    const out: string[] = [`claude-agent-mcp ${VERSION} doctor`, ""];
    for (const s of this.sections) {
      out.push(s.title);
      for (const l of s.lines) {
        out.push(`  ${SYMBOL[l.mark]} ${l.label}: ${l.detail}`);
        if (l.hint) out.push(`      hint: ${l.hint}`);
      }
      out.push("");
    }
    const f = this.failures;
    out.push(
      f === 0
        ? `All ${this.checks} checks passed.`
        : `${f} of ${this.checks} checks failed. Fix the lines marked ✗ and run \`claude-agent-mcp doctor\` again.`,
    );
    return `${out.join("\n")}\n`;
  }
}

/** Hint for a configuration problem, by the variable it names. */
function configHint(name: string): string {
  if (name === "ANTHROPIC_API_KEY") {
    return "export ANTHROPIC_API_KEY (or put it in .env / --env-file), or use CLAUDE_AGENT_MCP_EXECUTION_BACKEND=claude_code";
  }
  if (/STATE_DIR|ARTIFACT_DIR|DB_PATH|LOG_FILE/.test(name)) {
    return "point it at a directory this user can create and write, or fix the directory's permissions";
  }
  if (name.includes("EXECUTION_BACKEND"))
    return "use api (Anthropic API key) or claude_code (the `claude` CLI)";
  if (name.includes("CLI_PATH")) {
    return "install Claude Code (npm install -g @anthropic-ai/claude-code) or set CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH to the `claude` executable";
  }
  if (name.includes("FEDERATION")) {
    return "set CLAUDE_AGENT_MCP_FEDERATION_CONFIG to the federation JSON file, or set CLAUDE_AGENT_MCP_FEDERATION_ENABLED=false";
  }
  if (name.startsWith("--env-file")) return "check the path given to --env-file";
  if (name.includes("HOST")) return "bind a loopback host, or set CLAUDE_AGENT_MCP_HTTP_AUTH_TOKEN";
  return "fix the value (see the configuration table in README.md)";
}

function splitProblem(p: string): { name: string; detail: string } {
  const i = p.indexOf(": ");
  return i > 0 ? { name: p.slice(0, i), detail: p.slice(i + 2) } : { name: "configuration", detail: p };
}

/** A URL without userinfo, query or fragment (they may carry credentials). */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "(not a valid URL)";
  }
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function checkWritableDir(r: Report, label: string, dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.doctor-probe-${process.pid}`);
    writeFileSync(probe, "ok");
    rmSync(probe, { force: true });
    r.add("pass", label, `${dir} (writable)`);
    return true;
  } catch (err) {
    r.add(
      "fail",
      label,
      `${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? errMessage(err)})`,
      "create the directory or fix its permissions, or point the variable elsewhere",
    );
    return false;
  }
}

async function checkDatabase(r: Report, dbPath: string): Promise<void> {
  const { openStore, SCHEMA_VERSION } = await import("../sessions/store.js");
  let store: ReturnType<typeof openStore> | null = null;
  try {
    store = openStore(dbPath);
    const v = store.schemaVersion();
    const n = store.sessionCount();
    if (v > SCHEMA_VERSION) {
      r.add(
        "fail",
        "database",
        `${dbPath}: schema version ${v} is newer than this release supports (${SCHEMA_VERSION})`,
        "a newer claude-agent-mcp wrote this database; upgrade, or use another CLAUDE_AGENT_MCP_STATE_DIR",
      );
    } else {
      r.add("pass", "database", `${dbPath} (schema version ${v}, ${n} session${n === 1 ? "" : "s"})`);
    }
  } catch (err) {
    r.add(
      "fail",
      "database",
      `cannot open ${dbPath}: ${errMessage(err)}`,
      "check the file's permissions; a file that is not a SQLite database must be moved away",
    );
  } finally {
    store?.close();
  }
}

async function checkBackend(r: Report, c: Config): Promise<boolean> {
  if (c.executionBackend === "api") {
    r.add("pass", "API key", "ANTHROPIC_API_KEY is set (value not shown)");
    r.add(
      "info",
      "endpoint",
      c.anthropicBaseUrl
        ? `${safeUrl(c.anthropicBaseUrl)} (ANTHROPIC_BASE_URL)`
        : "https://api.anthropic.com (default)",
    );
    r.add("info", "model", c.model);
    return true;
  }
  const cc = c.claudeCode;
  r.add(
    "pass",
    "claude CLI",
    cc.configuredCliPath && cc.cliPath !== cc.configuredCliPath
      ? `${cc.cliPath} (found on PATH; CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH=${cc.configuredCliPath} is not a file)`
      : `${cc.cliPath}${cc.configuredCliPath ? "" : " (found on PATH)"}`,
  );
  const { checkClaudeCli } = await import("../backends/claude-code/cli-process.js");
  const v = await checkClaudeCli(cc.cliPath);
  if (v.ok) r.add("pass", "claude --version", v.version || "(no version printed)");
  else {
    r.add(
      "fail",
      "claude --version",
      v.error ?? "failed",
      "reinstall Claude Code (npm install -g @anthropic-ai/claude-code) or fix CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH",
    );
  }
  if (cc.inheritApiKey && c.anthropicApiKey) {
    r.add(
      "info",
      "login",
      "ANTHROPIC_API_KEY is passed to claude (CLAUDE_AGENT_MCP_CLAUDE_CODE_INHERIT_API_KEY=true)",
    );
  } else {
    r.add(
      "info",
      "login",
      "claude must be logged in as the user that runs the server (run `claude`, then /login); `doctor --live` checks it" +
        (c.anthropicApiKey
          ? ". ANTHROPIC_API_KEY is set but not passed to claude (CLAUDE_AGENT_MCP_CLAUDE_CODE_INHERIT_API_KEY=false)"
          : ""),
    );
  }
  return v.ok;
}

async function checkFederation(r: Report, c: Config): Promise<void> {
  if (!c.federationEnabled) {
    r.add("info", "federation", "disabled (CLAUDE_AGENT_MCP_FEDERATION_ENABLED is not true)");
    return;
  }
  const { loadFederationConfig } = await import("../federation/config.js");
  const path = c.federationConfigPath ?? "";
  const res = loadFederationConfig(path);
  if (!res.ok) {
    for (const p of res.problems) {
      r.add(
        "fail",
        "federation config",
        p,
        "fix the file (format: docs/federation.md), or set CLAUDE_AGENT_MCP_FEDERATION_ENABLED=false",
      );
    }
    return;
  }
  const servers = res.config.servers;
  const enabled = servers.filter((s) => s.enabled);
  const names = servers.map((s) => `${s.name} (${s.transport}${s.enabled ? "" : ", disabled"})`).join(", ");
  r.add(
    "pass",
    "federation config",
    `${res.config.path}: ${servers.length} server${servers.length === 1 ? "" : "s"}, ${enabled.length} enabled${names ? `: ${names}` : ""}`,
  );
  for (const w of res.warnings) r.add("warn", "federation config", w);
  if (enabled.length === 0) {
    r.add(
      "warn",
      "federation",
      "enabled, but no downstream server is enabled: no federated tools will be offered",
    );
  }
  if (c.executionBackend === "claude_code" && !c.claudeCode.enableExecutionMediation) {
    r.add(
      "warn",
      "federation",
      "the claude_code backend reaches federated tools only through execution mediation (CLAUDE_AGENT_MCP_CLAUDE_CODE_ENABLE_EXECUTION_MEDIATION=true)",
    );
  }
}

const API_HINTS: Record<string, string> = {
  api_auth_failed: "the API key was refused: check ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL if set)",
  api_rate_limited: "the key is rate limited right now; try again later or check your plan's limits",
  api_overloaded: "the API is overloaded or failing; try again later",
  api_timeout: "no answer in time; check the network and ANTHROPIC_BASE_URL",
  api_connection_error:
    "the API could not be reached; check the network, proxy settings and ANTHROPIC_BASE_URL",
  api_bad_request: "the request was refused; check CLAUDE_AGENT_MCP_MODEL names a model this key can use",
  api_empty_response: "the model answered with no text; try again, or another CLAUDE_AGENT_MCP_MODEL",
};

async function liveApi(r: Report, c: Config): Promise<void> {
  const [{ default: Anthropic }, { classifyApiError }] = await Promise.all([
    import("@anthropic-ai/sdk"),
    import("../backends/api/api-backend.js"),
  ]);
  const client = new Anthropic({
    apiKey: c.anthropicApiKey,
    ...(c.anthropicBaseUrl ? { baseURL: c.anthropicBaseUrl } : {}),
    maxRetries: 0,
    timeout: LIVE_TIMEOUT_MS,
  });
  const started = Date.now();
  try {
    const msg = await client.messages.create({
      model: c.model,
      max_tokens: 16,
      messages: [{ role: "user", content: LIVE_PROMPT }],
    });
    const text = msg.content
      .map((b) => (b.type === "text" ? b.text : ""))
      .join("")
      .trim();
    if (!text) {
      r.add(
        "fail",
        "model call",
        `${c.model} answered with no text (api_empty_response)`,
        API_HINTS.api_empty_response,
      );
      return;
    }
    r.add(
      "pass",
      "model call",
      `${msg.model || c.model} answered in ${Date.now() - started} ms: ${JSON.stringify(text.slice(0, 40))}`,
    );
  } catch (err) {
    const e = classifyApiError(err);
    r.add(
      "fail",
      "model call",
      `${e.failure.failure_code} (${e.failure.failure_class}): ${e.message}`,
      API_HINTS[e.failure.failure_code] ?? "see the message above",
    );
  }
}

const CLI_HINTS: Record<string, string> = {
  claude_code_not_installed: "install Claude Code or fix CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH",
  claude_code_not_authenticated:
    "log in: run `claude` as the user that runs the server and use /login (or set CLAUDE_AGENT_MCP_CLAUDE_CODE_INHERIT_API_KEY=true with ANTHROPIC_API_KEY)",
  claude_code_limit_reached: "the account's usage limit or credit is exhausted; wait, or check the plan",
  claude_code_timeout: 'no answer within 60 s; check the network, then run `claude -p "reply OK"` yourself',
  claude_code_process_error: 'run `claude -p "reply OK" --output-format json` yourself to see the error',
  claude_code_empty_response:
    'run `claude -p "reply OK" --output-format json` yourself to see what it prints',
  claude_code_unparseable_response: "the CLI may be too old for --output-format json; update Claude Code",
};

async function liveClaudeCode(r: Report, c: Config, env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  const [{ runCli, childEnv }, { classifyApiStatus, classifyText }] = await Promise.all([
    import("../backends/claude-code/cli-process.js"),
    import("../backends/claude-code/failure.js"),
  ]);
  const cc = c.claudeCode;
  const o = await runCli({
    cliPath: cc.cliPath,
    args: ["-p", "--output-format", "json", "--max-turns", "1", "--model", c.model],
    stdin: LIVE_PROMPT,
    cwd,
    env: childEnv(env, { inheritApiKey: cc.inheritApiKey, apiKey: c.anthropicApiKey }),
    timeoutMs: LIVE_TIMEOUT_MS,
    killGraceMs: 2_000,
    signal: new AbortController().signal,
  });
  const res = o.result;
  const snippet = (s: string) => s.replace(/\s+/g, " ").trim().slice(0, 300);
  let code: string;
  let detail: string;
  if (o.timedOut) {
    code = "claude_code_timeout";
    detail = "no answer within 60 seconds (process tree killed)";
  } else if (o.spawnErrorCode) {
    code = o.spawnErrorCode === "ENOENT" ? "claude_code_not_installed" : "claude_code_process_error";
    detail = `could not start ${cc.cliPath}: ${o.spawnErrorMessage ?? o.spawnErrorCode}`;
  } else if (res && res.is_error !== true && (res.subtype === "success" || res.subtype === undefined)) {
    const text = typeof res.result === "string" ? res.result.trim() : "";
    if (text) {
      r.add(
        "pass",
        "model call",
        `claude answered in ${o.durationMs} ms: ${JSON.stringify(text.slice(0, 40))}`,
      );
      return;
    }
    code = "claude_code_empty_response";
    detail = "claude reported success but no text";
  } else if (res) {
    const text = [typeof res.result === "string" ? res.result : "", o.stderr].join("\n");
    code = classifyApiStatus(res.api_error_status) ?? classifyText(text);
    detail = `claude reported an error (${String(res.subtype ?? "is_error")}): ${snippet(text) || "(no detail)"}`;
  } else if (o.exitCode !== 0 || o.exitSignal) {
    const text = o.stderr.trim() || o.stdout.trim();
    code = classifyText(text);
    detail = `claude ${o.exitSignal ? `was killed by ${o.exitSignal}` : `exited with code ${o.exitCode}`}: ${snippet(text) || "(no output)"}`;
  } else if (!o.stdout.trim()) {
    code = "claude_code_empty_response";
    detail = "claude exited 0 but printed nothing";
  } else {
    code = "claude_code_unparseable_response";
    detail = `output is not the expected JSON: ${snippet(o.stdout).slice(0, 120)}`;
  }
  r.add("fail", "model call", `${code}: ${detail}`, CLI_HINTS[code]);
}

/** Runs every check, prints the report, returns the exit code. */
export async function runDoctor(opts: DoctorOptions): Promise<number> {
  const write = opts.write ?? ((s: string) => process.stdout.write(s));
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const r = new Report();

  r.section("Configuration");
  const loaded = loadConfig({ flags: { envFile: opts.envFile }, env, cwd });
  let config: Config | null = null;
  // Paths for the state checks when the configuration as a whole is invalid (e.g. no API key).
  let paths: Config | null = null;
  if (loaded.ok) {
    config = loaded.config;
    paths = config;
    r.add(
      "pass",
      "configuration",
      `valid (backend ${config.executionBackend}, model ${config.model}, transport ${config.transport}${config.operatorPreset ? `, preset ${config.operatorPreset}` : ""})`,
    );
    r.add("info", ".env", config.envFile ?? "none (environment only)");
  } else {
    for (const p of loaded.problems) {
      const { name, detail } = splitProblem(p);
      r.add("fail", name, detail, configHint(name));
    }
    if (!loaded.problems.some((p) => /STATE_DIR|DB_PATH|ARTIFACT_DIR|--env-file/.test(p))) {
      const relaxed = loadConfig({
        flags: { envFile: opts.envFile },
        env: { ...env, CLAUDE_AGENT_MCP_EXECUTION_BACKEND: "api", ANTHROPIC_API_KEY: "doctor-placeholder" },
        cwd,
      });
      if (relaxed.ok) paths = relaxed.config;
    }
  }

  r.section("State");
  if (paths) {
    const stateOk = checkWritableDir(r, "state dir", paths.stateDir);
    if (stateOk || paths.artifactDir !== join(paths.stateDir, "artifacts")) {
      checkWritableDir(r, "artifact dir", paths.artifactDir);
    } else r.add("info", "artifact dir", "not checked (it lives in the state dir)");
    const dbDir = dirname(paths.dbPath);
    const dbDirOk = dbDir === paths.stateDir ? stateOk : checkWritableDir(r, "database dir", dbDir);
    if (dbDirOk) await checkDatabase(r, paths.dbPath);
    else r.add("info", "database", "not checked (its directory is not writable)");
  } else {
    r.add("info", "state", "not checked (fix the configuration problems above first)");
  }

  r.section(`Backend${config ? ` (${config.executionBackend})` : ""}`);
  let backendReady = false;
  if (config) backendReady = await checkBackend(r, config);
  else r.add("info", "backend", "not checked (fix the configuration problems above first)");

  r.section("Federation");
  const fedSource = config ?? paths;
  if (fedSource) await checkFederation(r, fedSource);
  else r.add("info", "federation", "not checked (fix the configuration problems above first)");

  r.section("Live check");
  if (!opts.live)
    r.add(
      "info",
      "model call",
      "skipped (run `claude-agent-mcp doctor --live` to make one small model call)",
    );
  else if (!config || !backendReady) r.add("info", "model call", "skipped (the backend is not ready)");
  else if (config.executionBackend === "api") await liveApi(r, config);
  else await liveClaudeCode(r, config, env, cwd);

  write(r.render());
  return r.failures === 0 ? 0 : 1;
}
