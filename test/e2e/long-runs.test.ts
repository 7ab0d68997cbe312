// Long runs over stdio: progress notifications, cancellation (both ways), wait_seconds with a
// long-polling agent_get_session, and SIGTERM mid-run.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeAnthropic, startFakeAnthropic } from "../helpers/fake-anthropic.js";
import {
  CLI_PATH,
  cleanEnv,
  type Harness,
  startServer,
  type TempDir,
  tempStateDir,
} from "../helpers/mcp-harness.js";

let fake: FakeAnthropic;
let dir: TempDir;
const open: Harness[] = [];

beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  while (open.length) await open.pop()!.close();
  fake.reset();
  await dir?.cleanup();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ANTHROPIC_API_KEY: "sk-test-key",
    ANTHROPIC_BASE_URL: fake.url,
    CLAUDE_AGENT_MCP_MODEL: "claude-fake-model",
    CLAUDE_AGENT_MCP_STATE_DIR: join(dir.dir, "state"),
    CLAUDE_AGENT_MCP_ALLOWED_DIRS: dir.dir,
    CLAUDE_AGENT_MCP_API_MAX_RETRIES: "0",
    CLAUDE_AGENT_MCP_PROGRESS_INTERVAL: "1",
    ...extra,
  };
}

async function server(extra: Record<string, string> = {}): Promise<Harness> {
  const h = await startServer({ cwd: dir.dir, env: env(extra) });
  open.push(h);
  return h;
}

describe("progress", () => {
  it("sends progress at each turn and heartbeats while the model is slow", async () => {
    dir = await tempStateDir();
    const h = await server();
    fake.enqueue({ text: "slow but done", delayMs: 4000 });
    const seen: { progress: number; message?: string }[] = [];
    const r = await h.call("agent_run_task", { task: "take your time" }, { onprogress: (p) => seen.push(p) });
    expect(r.json.ok).toBe(true);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen[0].message).toMatch(/turn 1 of 10/);
    expect(seen.some((p) => /elapsed/.test(p.message ?? ""))).toBe(true);
    const steps = seen.map((p) => p.progress);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps); // monotonic
  });
});

describe("cancellation", () => {
  it("notifications/cancelled aborts the request at the API; the session is cancelled and continuable", async () => {
    dir = await tempStateDir();
    const h = await server();
    fake.enqueue({ hang: true });
    const ac = new AbortController();
    const call = h.call("agent_run_task", { task: "never ends" }, { signal: ac.signal });
    await fake.waitForRequests(1);
    ac.abort();
    await expect(call).rejects.toThrow();
    await fake.waitForIdle(5000);
    expect(fake.inFlight).toBe(0);
    expect(fake.requests[0].aborted).toBe(true);
    const list = await h.call("agent_list_sessions", {});
    const id = list.json.sessions[0].session_id;
    const deadline = Date.now() + 5000;
    let got = await h.call("agent_get_session", { session_id: id, include_events: true });
    while (got.json.status === "running" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      got = await h.call("agent_get_session", { session_id: id, include_events: true });
    }
    expect(got.json.status).toBe("cancelled");
    expect(got.json.events.map((e: { event_type: string }) => e.event_type)).toContain("session_cancelled");
    fake.enqueue("back again");
    const c = await h.call("agent_continue_session", { session_id: id, message: "try once more" });
    expect(c.json).toMatchObject({ ok: true, status: "completed" });
  });

  it("agent_cancel_session stops a run started by another call", async () => {
    dir = await tempStateDir();
    const h = await server();
    fake.enqueue({ hang: true });
    const started = await h.call("agent_run_task", { task: "background job", wait_seconds: 1 });
    expect(started.json).toMatchObject({ ok: true, status: "running" });
    expect(started.json.summary).toContain("agent_get_session");
    const id = started.json.session_id;
    const cancel = await h.call("agent_cancel_session", { session_id: id });
    expect(cancel.json).toMatchObject({ ok: true, session_id: id, status: "cancelled" });
    await fake.waitForIdle(5000);
    expect(fake.inFlight).toBe(0);
    const again = await h.call("agent_cancel_session", { session_id: id });
    expect(again.json).toMatchObject({ ok: true, status: "cancelled" });
    const got = await h.call("agent_get_session", { session_id: id });
    expect(got.json.latest_result.errors[0].code).toBe("run_cancelled");
    const missing = await h.call("agent_cancel_session", { session_id: "sess_unknown" });
    expect(missing.json.errors[0].code).toBe("session_not_found");
  });
});

describe("wait_seconds", () => {
  it("returns running, then agent_get_session long-polls to the stored result", async () => {
    dir = await tempStateDir();
    const h = await server();
    fake.enqueue({ text: "finished after a while", delayMs: 3000 });
    const t0 = Date.now();
    const r = await h.call("agent_run_task", { task: "slow", wait_seconds: 1 });
    expect(Date.now() - t0).toBeLessThan(2900);
    expect(r.json).toMatchObject({ ok: true, status: "running", workflow: "run_task" });
    const got = await h.call("agent_get_session", { session_id: r.json.session_id, wait_seconds: 10 });
    expect(got.json.status).toBe("completed");
    expect(got.json.latest_result).toMatchObject({ ok: true, status: "completed" });
    expect(got.json.latest_result.result.output_text).toBe("finished after a while");
  });
});

describe("shutdown", () => {
  it("SIGTERM mid-run exits 0 and leaves the session interrupted and continuable", async () => {
    dir = await tempStateDir();
    fake.enqueue({ hang: true });
    const child = spawn(process.execPath, [CLI_PATH], {
      cwd: dir.dir,
      env: cleanEnv(env()),
      stdio: ["pipe", "pipe", "pipe"],
    });
    const send = (msg: object) => child.stdin.write(`${JSON.stringify(msg)}\n`);
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    send({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
    });
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    send({
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "agent_run_task", arguments: { task: "long" } },
    });
    await fake.waitForRequests(1);
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const t0 = Date.now();
    child.kill("SIGTERM");
    const code = await exited;
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    // Every stdout line is a JSON-RPC message.
    for (const line of out.split("\n").filter(Boolean)) expect(JSON.parse(line).jsonrpc).toBe("2.0");

    const h = await server();
    const list = await h.call("agent_list_sessions", {});
    const id = list.json.sessions[0].session_id;
    const got = await h.call("agent_get_session", { session_id: id });
    expect(got.json.status).toBe("interrupted");
    expect(got.json.latest_result.errors[0].code).toBe("run_interrupted");
    fake.reset();
    fake.enqueue("resumed");
    const c = await h.call("agent_continue_session", { session_id: id, message: "go on" });
    expect(c.json.status).toBe("completed");
  });
});
