// Shared bench helpers: statistics, a raw line-delimited JSON-RPC client over the server's stdio
// (no MCP SDK client, so client-side validation does not inflate the figures), process handling
// (everything spawned is tracked and killed by pid), RSS from /proc.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
export const CLI_PATH = join(REPO_ROOT, "dist", "cli.js");
export const now = () => performance.now();

// ------------------------------------------------------------------------------------- stats

/** { median, min, max, n } of a list of numbers (rounded to 3 decimals). */
export function stats(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return { median: null, min: null, max: null, n: 0 };
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median: r3(median), min: r3(v[0]), max: r3(v[v.length - 1]), n: v.length };
}

export function medianOf(values) {
  return stats(values).median;
}

export const r3 = (x) => Math.round(x * 1000) / 1000;

// ------------------------------------------------------------------------------------- processes

const live = new Set();

export function killPid(pid, signal = "SIGKILL") {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

process.once("exit", () => {
  for (const pid of live) killPid(pid);
});
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.once(sig, () => {
    for (const pid of live) killPid(pid);
    process.exit(130);
  });
}

/** VmRSS of a process in MiB (Linux /proc), or null. */
export function rssMiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

export async function tempDir(prefix = "cam-bench-") {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true, maxRetries: 3 }) };
}

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

export function serverEnv({ stateDir, fakeUrl, extra = {} }) {
  const env = {};
  if (process.env.PATH !== undefined) env.PATH = process.env.PATH;
  if (process.env.HOME !== undefined) env.HOME = process.env.HOME;
  return {
    ...env,
    ANTHROPIC_API_KEY: "bench-key",
    ANTHROPIC_BASE_URL: fakeUrl,
    CLAUDE_AGENT_MCP_STATE_DIR: stateDir,
    CLAUDE_AGENT_MCP_API_MAX_RETRIES: "0",
    CLAUDE_AGENT_MCP_LOG_LEVEL: "warn",
    ...extra,
  };
}

/** Spawns `node dist/cli.js ...args`; returns the child with pid tracking and a stderr tail. */
export function spawnCli(args, { env, cwd }) {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { env, cwd, stdio: ["pipe", "pipe", "pipe"] });
  live.add(child.pid);
  let tail = "";
  child.stderr.on("data", (d) => {
    tail = (tail + d.toString()).slice(-4000);
  });
  child.exited = new Promise((res) => child.once("exit", (code, signal) => res({ code, signal })));
  child.exited.then(() => live.delete(child.pid));
  child.stderrTail = () => tail;
  return child;
}

/** Ends a child: close stdin (the server's clean exit), then SIGKILL after `graceMs`. */
export async function stopChild(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    child.stdin.end();
  } catch {
    // ignore
  }
  const t = setTimeout(() => killPid(child.pid), graceMs);
  await child.exited;
  clearTimeout(t);
}

// ------------------------------------------------------------------------------------- JSON-RPC

/** A minimal MCP client over a child's stdio. `request` resolves with { result, bytes, ms }. */
export class RpcClient {
  constructor(child) {
    this.child = child;
    this.nextId = 1;
    this.pending = new Map();
    this.buf = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => this.onData(chunk));
    child.once("exit", () => {
      for (const p of this.pending.values())
        p.reject(new Error(`server exited: ${child.stderrTail?.() ?? ""}`));
      this.pending.clear();
    });
  }

  onData(chunk) {
    this.buf += chunk;
    let nl = this.buf.indexOf("\n");
    while (nl >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      nl = this.buf.indexOf("\n");
      if (!line.trim()) continue;
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      if (msg.id === undefined || msg.method) continue; // notifications / server requests
      const p = this.pending.get(msg.id);
      if (!p) continue;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
      else p.resolve({ result: msg.result, bytes: Buffer.byteLength(line), at: now() });
    }
  }

  request(method, params = {}, timeoutMs = 60_000) {
    const id = this.nextId++;
    const started = now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(`${method} timed out after ${timeoutMs} ms; stderr: ${this.child.stderrTail?.() ?? ""}`),
        );
      }, timeoutMs);
      this.pending.set(id, {
        method,
        timer,
        resolve: (r) => resolve({ ...r, ms: r.at - started }),
        reject,
      });
      this.child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    });
  }

  notify(method, params = {}) {
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method, params })}\n`);
  }

  initialize() {
    return this.request("initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "cam-bench", version: "1.0.0" },
    });
  }

  /** tools/call; throws unless the tool answered without isError. Returns { json, ms }. */
  async call(name, args = {}, timeoutMs = 60_000) {
    const r = await this.request("tools/call", { name, arguments: args }, timeoutMs);
    const json = r.result?.structuredContent ?? JSON.parse(r.result?.content?.[0]?.text ?? "null");
    if (r.result?.isError) throw new Error(`${name} failed: ${JSON.stringify(json).slice(0, 500)}`);
    return { json, ms: r.ms, bytes: r.bytes };
  }
}

/**
 * Spawns the server over stdio and completes the handshake. Returns timings from spawn:
 * initMs (initialize answered), listMs (tools/list answered) plus the client and child.
 */
export async function startStdio({ env, cwd, timeoutMs = 20_000 }) {
  const t0 = now();
  const child = spawnCli([], { env, cwd });
  const rpc = new RpcClient(child);
  try {
    const init = await rpc.initialize();
    const initMs = init.at - t0;
    rpc.notify("notifications/initialized");
    const list = await rpc.request("tools/list", {}, timeoutMs);
    const listMs = list.at - t0;
    return { child, rpc, initMs, listMs, tools: list.result.tools, listBytes: list.bytes };
  } catch (err) {
    killPid(child.pid);
    throw err;
  }
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
