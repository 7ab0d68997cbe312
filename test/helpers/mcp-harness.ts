/**
 * Spawns the BUILT server (`node <repo>/dist/cli.js`) and talks to it over stdio with the real MCP SDK
 * client. Run `npm run build` first (`npm test` does it in `pretest`).
 *
 * The child gets a clean environment: PATH and HOME from the parent plus `opts.env` only — none of the
 * parent's ANTHROPIC_* / CLAUDE_AGENT_* / CLAUDECODE variables. Unless `opts.cwd` is given it runs in a
 * fresh temporary directory (no stray `.env`, the default `.state` dir lands there), removed on close().
 *
 * Usage:
 *   const h = await startServer({ env: { ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: fake.url } });
 *   const r = await h.call("agent_run_task", { task: "hi" });
 *   expect(r.isError).toBe(false); expect(r.json.ok).toBe(true);
 *   await h.close();
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, Progress } from "@modelcontextprotocol/sdk/types.js";

export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const CLI_PATH = join(REPO_ROOT, "dist", "cli.js");

function assertBuilt(): void {
  if (!existsSync(CLI_PATH)) {
    throw new Error(`mcp-harness: ${CLI_PATH} does not exist; run \`npm run build\` first`);
  }
}

/** PATH and HOME from this process plus `extra` (nothing else is inherited). */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  if (process.env.PATH !== undefined) env.PATH = process.env.PATH;
  if (process.env.HOME !== undefined) env.HOME = process.env.HOME;
  return { ...env, ...extra };
}

// ---------------------------------------------------------------------------------------------
// Process bookkeeping: everything spawned here is killed by pid, never by name.

const livePids = new Set<number>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function killPid(pid: number, signal: NodeJS.Signals = "SIGKILL"): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

async function waitDead(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

process.once("exit", () => {
  for (const pid of livePids) killPid(pid);
});

// ---------------------------------------------------------------------------------------------
// Temp dirs

export interface TempDir {
  dir: string;
  cleanup(): Promise<void>;
}

/** A fresh empty directory under the OS temp dir; `cleanup()` removes it recursively. */
export async function tempStateDir(prefix = "cam-test-"): Promise<TempDir> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true, maxRetries: 3 }) };
}

// ---------------------------------------------------------------------------------------------
// MCP server harness

export interface StartServerOptions {
  /** Script run with `node` instead of `dist/cli.js` (for harness self-tests or stand-ins). */
  entry?: string;
  /** Added to the clean env (PATH, HOME). */
  env?: Record<string, string>;
  /** Extra CLI args after `dist/cli.js` (e.g. `["serve"]`). */
  args?: string[];
  /** Working directory; default: a fresh temp dir removed by close(). */
  cwd?: string;
  /** Client name sent in `initialize`. Default `mcp-harness`. */
  clientName?: string;
  /** Time allowed for spawn + initialize. Default 20 s. */
  startTimeoutMs?: number;
}

export interface CallOptions {
  /** Per-request timeout (SDK default 60 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Passing this makes the client send a progressToken. */
  onprogress?: (p: Progress) => void;
  resetTimeoutOnProgress?: boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary fields of the parsed JSON
export interface CallResult<T = any> {
  /** JSON.parse of the single text block (undefined if there is none or it is not JSON). */
  json: T;
  /** The text of the first text block ("" if none). */
  text: string;
  isError: boolean;
  structuredContent: Record<string, unknown> | undefined;
  /** The result exactly as the SDK returned it. */
  raw: CallToolResult;
}

export interface Harness {
  client: Client;
  transport: StdioClientTransport;
  pid: number;
  /** The working directory the server runs in. */
  cwd: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary fields of the parsed JSON
  call<T = any>(name: string, args?: Record<string, unknown>, opts?: CallOptions): Promise<CallResult<T>>;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Send a signal to the server by pid (e.g. SIGKILL for crash tests). */
  kill(signal?: NodeJS.Signals): void;
  /** Resolve when the server process is gone (true) or after timeoutMs (false). */
  waitForExit(timeoutMs?: number): Promise<boolean>;
  /** Close the client (stdin EOF), wait for exit, SIGKILL by pid if still alive, remove the temp cwd. */
  close(): Promise<void>;
}

export async function startServer(opts: StartServerOptions = {}): Promise<Harness> {
  if (!opts.entry) assertBuilt();
  const ownCwd = opts.cwd ? undefined : await tempStateDir("cam-cwd-");
  const cwd = opts.cwd ?? ownCwd!.dir;
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [opts.entry ?? CLI_PATH, ...(opts.args ?? [])],
    env: cleanEnv(opts.env),
    cwd,
    stderr: "pipe",
  });
  const chunks: string[] = [];
  transport.stderr?.on("data", (c: Buffer | string) => chunks.push(String(c)));
  const stderr = () => chunks.join("");
  const client = new Client({ name: opts.clientName ?? "mcp-harness", version: "0.0.0" });

  let pid: number | null = null;
  const origStart = transport.start.bind(transport);
  // Record the pid as soon as the process exists, so a failed handshake still gets cleaned up.
  transport.start = async () => {
    await origStart();
    pid = transport.pid;
    if (pid) livePids.add(pid);
  };

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await client.close();
    } catch {
      // ignore: we make sure below
    }
    if (pid) {
      if (!(await waitDead(pid, 5_000))) {
        killPid(pid, "SIGKILL");
        await waitDead(pid, 5_000);
      }
      livePids.delete(pid);
    }
    await ownCwd?.cleanup();
  };

  try {
    const timeoutMs = opts.startTimeoutMs ?? 20_000;
    await client.connect(transport, { timeout: timeoutMs });
  } catch (err) {
    await close();
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`mcp-harness: server failed to start: ${msg}\n--- server stderr ---\n${stderr()}`);
  }
  if (!pid) {
    await close();
    throw new Error(`mcp-harness: no pid after connect\n--- server stderr ---\n${stderr()}`);
  }
  const serverPid: number = pid;

  return {
    client,
    transport,
    pid: serverPid,
    cwd,
    async call(name, args = {}, callOpts = {}) {
      const reqOpts: RequestOptions = {};
      if (callOpts.timeoutMs !== undefined) reqOpts.timeout = callOpts.timeoutMs;
      if (callOpts.signal) reqOpts.signal = callOpts.signal;
      if (callOpts.onprogress) reqOpts.onprogress = callOpts.onprogress;
      if (callOpts.resetTimeoutOnProgress !== undefined) {
        reqOpts.resetTimeoutOnProgress = callOpts.resetTimeoutOnProgress;
      }
      const raw = (await client.callTool({ name, arguments: args }, undefined, reqOpts)) as CallToolResult;
      const first = (raw.content ?? []).find((c) => c.type === "text");
      const text = first && first.type === "text" ? first.text : "";
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return {
        // biome-ignore lint/suspicious/noExplicitAny: generic convenience
        json: json as any,
        text,
        isError: raw.isError === true,
        structuredContent: raw.structuredContent as Record<string, unknown> | undefined,
        raw,
      };
    },
    stderr,
    kill(signal = "SIGKILL") {
      killPid(serverPid, signal);
    },
    waitForExit(timeoutMs = 10_000) {
      return waitDead(serverPid, timeoutMs);
    },
    close,
  };
}

// ---------------------------------------------------------------------------------------------
// One-shot CLI runs

export interface RunCliOptions {
  /** Script run with `node` instead of `dist/cli.js`. */
  entry?: string;
  /** Added to the clean env (PATH, HOME). */
  env?: Record<string, string>;
  /** Working directory; default: a fresh temp dir removed afterwards. */
  cwd?: string;
  /** Written to stdin, then stdin is closed (stdin is closed immediately if omitted). */
  input?: string;
  /** Kill (SIGKILL by pid) after this long. Default 20 s. */
  timeoutMs?: number;
}

export interface RunCliResult {
  /** Exit code, or null if killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Run `node dist/cli.js ...args` to completion (e.g. `--version`, a bad env). */
export async function runCli(args: string[], opts: RunCliOptions = {}): Promise<RunCliResult> {
  if (!opts.entry) assertBuilt();
  const ownCwd = opts.cwd ? undefined : await tempStateDir("cam-cwd-");
  const cwd = opts.cwd ?? ownCwd!.dir;
  try {
    return await new Promise<RunCliResult>((resolvePromise, reject) => {
      const child = spawn(process.execPath, [opts.entry ?? CLI_PATH, ...args], {
        cwd,
        env: cleanEnv(opts.env),
        stdio: ["pipe", "pipe", "pipe"],
      });
      const pid = child.pid;
      if (pid) livePids.add(pid);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      child.stdout.on("data", (c: Buffer) => out.push(c));
      child.stderr.on("data", (c: Buffer) => err.push(c));
      child.stdin.on("error", () => {}); // EPIPE if the CLI exits before reading
      child.stdin.end(opts.input ?? "");
      const timer = setTimeout(() => {
        timedOut = true;
        if (pid) killPid(pid, "SIGKILL");
      }, opts.timeoutMs ?? 20_000);
      child.on("error", (e) => {
        clearTimeout(timer);
        if (pid) livePids.delete(pid);
        reject(e);
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        if (pid) livePids.delete(pid);
        resolvePromise({
          code,
          signal,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
          timedOut,
        });
      });
    });
  } finally {
    await ownCwd?.cleanup();
  }
}
