// Spawning `claude` and reading what it prints. The prompt goes to stdin (never argv: argv is
// size-limited and visible in `ps`); stdin is never the MCP pipe. The child runs in its own
// process group so a timeout or an abort kills the whole tree (tool processes, MCP servers it
// started), SIGTERM first and SIGKILL after a grace period. Output is parsed line by line as it
// arrives (stream-json), with bounded buffers.
import { StringDecoder } from "node:string_decoder";
import { execa } from "execa";

const STDOUT_KEEP_BYTES = 8 * 1024 * 1024;
const STDERR_KEEP_BYTES = 64 * 1024;
const VERSION_TIMEOUT_MS = 10_000;

/** Node refuses to spawn .cmd/.bat without a shell; only those get one. */
export function needsShell(cliPath: string): boolean {
  return process.platform === "win32" && /\.(cmd|bat)$/i.test(cliPath);
}

// cmd.exe quoting (the cross-spawn rules, doubled for npm .cmd shims that re-expand %*).
const CMD_META = /([()\][%!^"`<>&|;, *?])/g;
function quoteForCmd(arg: string): string {
  let a = arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\*)$/, "$1$1");
  a = `"${a}"`;
  return a.replace(CMD_META, "^$1").replace(CMD_META, "^$1");
}

function spawnTarget(cliPath: string, args: string[]): { file: string; args: string[]; shell: boolean } {
  if (!needsShell(cliPath)) return { file: cliPath, args, shell: false };
  return { file: quoteForCmd(cliPath), args: args.map(quoteForCmd), shell: true };
}

/** The child's environment: the server's, minus what must not leak into Claude Code. */
export function childEnv(
  base: NodeJS.ProcessEnv,
  opts: { inheritApiKey: boolean; apiKey: string },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  // A `claude` started with CLAUDECODE set (from inside Claude Code) refuses to run.
  delete env.CLAUDECODE;
  if (opts.inheritApiKey) {
    // The key may come from the .env file rather than the real environment.
    if (!env.ANTHROPIC_API_KEY && opts.apiKey) env.ANTHROPIC_API_KEY = opts.apiKey;
  } else {
    // An API key silently switches Claude Code from the subscription login to API billing.
    delete env.ANTHROPIC_API_KEY;
  }
  return env;
}

// Process groups still running, killed if the server exits without aborting them.
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const pgid of liveGroups) signalGroup(pgid, "SIGKILL");
  });
}

function signalGroup(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(process.platform === "win32" ? pid : -pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Kills a process tree: SIGTERM to the group, then SIGKILL once the grace period is over. */
async function killTree(pid: number, graceMs: number): Promise<void> {
  if (process.platform === "win32") {
    await execa("taskkill", ["/pid", String(pid), "/T", "/F"], { reject: false, windowsHide: true });
    return;
  }
  if (!signalGroup(pid, "SIGTERM")) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    if (!signalGroup(pid, 0)) return;
  }
  signalGroup(pid, "SIGKILL");
}

/** One line of `--output-format stream-json` (or the single object of `json`). */
export type CliMessage = Record<string, unknown> & { type?: unknown };

export interface CliInvocation {
  cliPath: string;
  args: string[];
  stdin: string;
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  killGraceMs: number;
  signal: AbortSignal;
  onMessage?(msg: CliMessage): void;
}

export interface CliOutcome {
  exitCode: number | null;
  exitSignal: string | null;
  spawnErrorCode: string | null;
  spawnErrorMessage: string | null;
  timedOut: boolean;
  aborted: boolean;
  /** stdout as printed (capped). */
  stdout: string;
  /** The tail of stderr (capped). */
  stderr: string;
  /** Lines of stdout that were not JSON. */
  garbageLines: number;
  /** The final `type: "result"` object, if the CLI printed one. */
  result: CliMessage | null;
  /** The `system`/`init` line (session id, model, tools), stream-json only. */
  init: CliMessage | null;
  /** Texts of the assistant messages, in order (stream-json only). */
  assistantTexts: string[];
  durationMs: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Runs the CLI once. Never throws: every failure is described in the outcome. */
export async function runCli(inv: CliInvocation): Promise<CliOutcome> {
  const started = Date.now();
  const out: CliOutcome = {
    exitCode: null,
    exitSignal: null,
    spawnErrorCode: null,
    spawnErrorMessage: null,
    timedOut: false,
    aborted: false,
    stdout: "",
    stderr: "",
    garbageLines: 0,
    result: null,
    init: null,
    assistantTexts: [],
    durationMs: 0,
  };
  if (inv.signal.aborted) {
    out.aborted = true;
    return out;
  }

  const target = spawnTarget(inv.cliPath, inv.args);
  const detached = process.platform !== "win32";
  const sub = execa(target.file, target.args, {
    cwd: inv.cwd,
    env: inv.env,
    extendEnv: false,
    input: inv.stdin,
    stdout: "pipe",
    stderr: "pipe",
    buffer: false,
    reject: false,
    detached,
    shell: target.shell,
    windowsHide: true,
  });
  const pid = sub.pid;
  if (pid !== undefined && detached) trackGroup(pid);

  const handleLine = (line: string): void => {
    const t = line.trim();
    if (!t) return;
    let msg: unknown;
    try {
      msg = JSON.parse(t);
    } catch {
      out.garbageLines++;
      return;
    }
    if (!isRecord(msg)) {
      if (Array.isArray(msg)) {
        // Older `--output-format json --verbose` printed an array of messages.
        for (const m of msg) if (isRecord(m)) takeMessage(m);
      } else out.garbageLines++;
      return;
    }
    takeMessage(msg);
  };
  const takeMessage = (msg: CliMessage): void => {
    if (msg.type === "result") out.result = msg;
    else if (msg.type === "system" && msg.subtype === "init") out.init = msg;
    else if (msg.type === "assistant" && isRecord(msg.message) && Array.isArray(msg.message.content)) {
      const text = msg.message.content
        .filter((b): b is { type: "text"; text: string } => isRecord(b) && b.type === "text")
        .map((b) => String(b.text))
        .join("");
      if (text) out.assistantTexts.push(text);
    }
    try {
      inv.onMessage?.(msg);
    } catch {
      // a progress callback must not break the run
    }
  };

  let stdoutBytes = 0;
  let pending = "";
  const dec = new StringDecoder("utf8");
  sub.stdout?.on("data", (chunk: Buffer | string) => {
    const s = typeof chunk === "string" ? chunk : dec.write(chunk);
    if (stdoutBytes < STDOUT_KEEP_BYTES) out.stdout += s;
    stdoutBytes += s.length;
    pending += s;
    let nl = pending.indexOf("\n");
    while (nl >= 0) {
      handleLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      nl = pending.indexOf("\n");
    }
  });
  const errDec = new StringDecoder("utf8");
  sub.stderr?.on("data", (chunk: Buffer | string) => {
    out.stderr += typeof chunk === "string" ? chunk : errDec.write(chunk);
    if (out.stderr.length > STDERR_KEEP_BYTES) out.stderr = out.stderr.slice(-STDERR_KEEP_BYTES);
  });

  let killing: Promise<void> | null = null;
  const kill = () => {
    if (!killing && pid !== undefined) killing = killTree(pid, inv.killGraceMs);
  };
  const timer = setTimeout(() => {
    out.timedOut = true;
    kill();
  }, inv.timeoutMs);
  const onAbort = () => {
    out.aborted = true;
    kill();
  };
  inv.signal.addEventListener("abort", onAbort, { once: true });

  try {
    const r = await sub;
    out.exitCode = typeof r.exitCode === "number" ? r.exitCode : null;
    out.exitSignal = r.signal ?? null;
    const code = (r as { code?: unknown }).code;
    if (r.failed && out.exitCode === null && out.exitSignal === null && typeof code === "string") {
      out.spawnErrorCode = code;
      out.spawnErrorMessage = (r as { originalMessage?: string }).originalMessage ?? r.message ?? code;
    }
  } finally {
    clearTimeout(timer);
    inv.signal.removeEventListener("abort", onAbort);
    if (killing) await killing;
    if (pid !== undefined) liveGroups.delete(pid);
  }
  pending += dec.end();
  if (pending) handleLine(pending);
  out.stderr += errDec.end();

  // `--output-format json` may pretty-print one object over several lines.
  if (!out.result && out.garbageLines > 0 && stdoutBytes <= STDOUT_KEEP_BYTES) {
    try {
      const whole: unknown = JSON.parse(out.stdout);
      const candidates = Array.isArray(whole) ? whole : [whole];
      for (const m of candidates) if (isRecord(m) && m.type === "result") out.result = m;
      if (out.result) out.garbageLines = 0;
    } catch {
      // really garbage
    }
  }
  out.durationMs = Date.now() - started;
  return out;
}

export interface CliCheck {
  ok: boolean;
  version?: string;
  error?: string;
}

/** `claude --version`, bounded at 10 s: the startup check, `doctor`, and the status snapshot. */
export async function checkClaudeCli(
  cliPath: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CliCheck> {
  if (!cliPath)
    return { ok: false, error: "claude CLI not found (set CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH)" };
  const target = spawnTarget(cliPath, ["--version"]);
  try {
    const r = await execa(target.file, target.args, {
      stdin: "ignore",
      reject: false,
      timeout: VERSION_TIMEOUT_MS,
      forceKillAfterDelay: 1000,
      shell: target.shell,
      windowsHide: true,
      env: childEnv(env, { inheritApiKey: false, apiKey: "" }),
      extendEnv: false,
    });
    if (r.timedOut) return { ok: false, error: `no response to \`${cliPath} --version\` within 10 seconds` };
    const code = (r as { code?: unknown }).code;
    if (r.failed && typeof r.exitCode !== "number") {
      return {
        ok: false,
        error: `${cliPath} is not executable (${typeof code === "string" ? code : r.shortMessage})`,
      };
    }
    if (r.exitCode !== 0) {
      const err = String(r.stderr ?? "").trim() || String(r.stdout ?? "").trim();
      return {
        ok: false,
        error: `\`${cliPath} --version\` exited with code ${r.exitCode}: ${err.slice(0, 500)}`,
      };
    }
    return { ok: true, version: String(r.stdout ?? "").trim() };
  } catch (err) {
    return { ok: false, error: `${cliPath} could not be run: ${(err as Error).message}` };
  }
}
