// The core server over stdio: the built dist/cli.js, the real MCP SDK client, a real SQLite file
// and the fake Anthropic API on 127.0.0.1.
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  allText,
  errorReply,
  type FakeAnthropic,
  startFakeAnthropic,
  toolUseReply,
} from "../helpers/fake-anthropic.js";
import {
  type Harness,
  REPO_ROOT,
  runCli,
  startServer,
  type TempDir,
  tempStateDir,
} from "../helpers/mcp-harness.js";

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));

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

async function server(extra: Record<string, string> = {}, cwd?: string): Promise<Harness> {
  dir ??= await tempStateDir();
  const h = await startServer({
    cwd: cwd ?? dir.dir,
    env: {
      ANTHROPIC_API_KEY: "sk-test-secret-key-0001",
      ANTHROPIC_BASE_URL: fake.url,
      CLAUDE_AGENT_MCP_MODEL: "claude-fake-model",
      CLAUDE_AGENT_MCP_STATE_DIR: join(dir.dir, "state"),
      CLAUDE_AGENT_MCP_ALLOWED_DIRS: dir.dir,
      CLAUDE_AGENT_MCP_API_MAX_RETRIES: "0",
      ...extra,
    },
  });
  open.push(h);
  return h;
}

function dbRows(sql: string): unknown[] {
  const db = new Database(join(dir.dir, "state", "claude-agent-mcp.db"), { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

describe("tools/list and identity", () => {
  it("lists the tools with annotations and output schemas, and reports our version", async () => {
    dir = await tempStateDir();
    const h = await server();
    expect(h.client.getServerVersion()).toMatchObject({ name: "claude-agent-mcp", version: pkg.version });
    const { tools } = await h.client.listTools();
    const names = tools.map((t) => t.name);
    for (const n of [
      "agent_run_task",
      "agent_continue_session",
      "agent_get_session",
      "agent_list_sessions",
      "agent_verify_task",
      "agent_get_runtime_status",
      "agent_cancel_session",
    ]) {
      expect(names).toContain(n);
    }
    for (const t of tools) {
      expect(t.annotations, t.name).toBeDefined();
      expect(t.outputSchema?.type, t.name).toBe("object");
      expect(t.description!.length).toBeGreaterThan(20);
    }
    const run = tools.find((t) => t.name === "agent_run_task")!;
    // Hints equal to the MCP defaults are left out (openWorldHint: true is the default).
    expect(run.annotations).toEqual({ destructiveHint: true });
    const six = tools.filter((t) => !/artifact|cancel/.test(t.name));
    expect(JSON.stringify(six).length).toBeLessThan(3500);
    expect(run.inputSchema.required).toEqual(["task"]);
    const get = tools.find((t) => t.name === "agent_get_session")!;
    expect(get.annotations).toMatchObject({ readOnlyHint: true, idempotentHint: true });
  });

  it("--version prints the package version", async () => {
    const r = await runCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`claude-agent-mcp ${pkg.version}`);
  });
});

describe("run, continue, get, list", () => {
  it("round-trips and replays the real earlier conversation", async () => {
    dir = await tempStateDir();
    const h = await server();
    const longAnswer = `First line of the answer.\n${"A detailed paragraph. ".repeat(40)}\nThe secret word is PINEAPPLE.`;
    fake.enqueue({ text: longAnswer, usage: { input_tokens: 100, output_tokens: 50 } });
    const run = await h.call("agent_run_task", { task: "Explain the plan for project Zebra" });
    expect(run.isError).toBe(false);
    const env = run.json;
    expect(Object.keys(env)).toEqual([
      "ok",
      "session_id",
      "status",
      "workflow",
      "profile",
      "summary",
      "result",
      "artifacts",
      "warnings",
      "errors",
    ]);
    expect(env).toMatchObject({ ok: true, status: "completed", workflow: "run_task", profile: "general" });
    expect(env.session_id).toMatch(/^sess_/);
    expect(env.result.output_text).toBe(longAnswer);
    expect(env.result.metrics).toMatchObject({
      backend: "api",
      model: "claude-fake-model",
      turns: 1,
      input_tokens: 100,
      output_tokens: 50,
      stop_reason: "end_turn",
    });
    expect(env.summary).toBe("First line of the answer.");
    expect(run.structuredContent).toEqual(env);

    fake.enqueue("Continuing: yes.");
    const cont = await h.call("agent_continue_session", {
      session_id: env.session_id,
      message: "And what was the word?",
    });
    expect(cont.json).toMatchObject({ ok: true, status: "completed", workflow: "continue_session" });
    const req = fake.requests.at(-1)!;
    const text = allText(req);
    expect(text).toContain("Explain the plan for project Zebra");
    expect(text).toContain("The secret word is PINEAPPLE.");
    expect(text).toContain("A detailed paragraph. ".repeat(40).trim());
    expect(req.body.messages!.map((m: { role: string }) => m.role)).toEqual(["user", "assistant", "user"]);

    const get = await h.call("agent_get_session", { session_id: env.session_id, include_events: true });
    expect(get.json).toMatchObject({
      session_id: env.session_id,
      status: "completed",
      turn_count: 2,
      request_count: 2,
      backend: "api",
      usage: { input_tokens: 110, output_tokens: 55 },
    });
    expect(get.json.latest_result.workflow).toBe("continue_session");
    expect(get.json.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const types = get.json.events.map((e: { event_type: string }) => e.event_type);
    expect(types).toContain("provider_transcript");
    expect(types.filter((t: string) => t === "user_input")).toHaveLength(2);

    const list = await h.call("agent_list_sessions", { limit: 5 });
    expect(list.json.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([env.session_id]);
    const filtered = await h.call("agent_list_sessions", { status: "failed" });
    expect(filtered.json.sessions).toEqual([]);
    const queried = await h.call("agent_list_sessions", { query: "zebra" });
    expect(queried.json.sessions).toHaveLength(1);
    // The API key never reaches the DB.
    const dump =
      JSON.stringify(dbRows("SELECT * FROM session_events")) +
      JSON.stringify(dbRows("SELECT * FROM sessions"));
    expect(dump).not.toContain("sk-test-secret-key-0001");
  });
});

describe("bad input", () => {
  it("answers bad arguments with the contract's shapes and writes nothing", async () => {
    dir = await tempStateDir();
    const outside = await tempStateDir("cam-outside-");
    mkdirSync(join(dir.dir, "inside"));
    symlinkSync(outside.dir, join(dir.dir, "inside", "escape"));
    const h = await server();
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ["agent_run_task", {}, "validation_error", /task/],
      ["agent_run_task", { task: 5 }, "validation_error", /task/],
      ["agent_run_task", { task: "   " }, "validation_error", /task/],
      ["agent_run_task", { task: "x".repeat(1_000_000) }, "validation_error", /task/],
      ["agent_run_task", { task: "x", max_turns: 0 }, "validation_error", /max_turns/],
      ["agent_run_task", { task: "x", system_profile: "root" }, "validation_error", /system_profile/],
      ["agent_run_task", { task: "x", working_directory: outside.dir }, "policy_denied", /outside/],
      [
        "agent_run_task",
        { task: "x", working_directory: join(dir.dir, "inside", "escape") },
        "policy_denied",
        /outside/,
      ],
      ["agent_run_task", { task: "x", working_directory: "/etc" }, "policy_denied", /outside/],
      [
        "agent_continue_session",
        { session_id: "sess_nope", message: "hi" },
        "session_not_found",
        /sess_nope/,
      ],
      ["agent_continue_session", { session_id: "sess_x" }, "validation_error", /message/],
    ];
    for (const [tool, args, code, msg] of cases) {
      const r = await h.call(tool, args);
      expect(r.isError, `${tool} ${JSON.stringify(args).slice(0, 80)}`).toBe(true);
      expect(r.json.ok).toBe(false);
      expect(r.json.errors[0].code).toBe(code);
      expect(r.json.errors[0].message).toMatch(msg);
      expect(r.json.session_id === "" || r.json.session_id === args.session_id).toBe(true);
      expect(r.text).not.toMatch(/at .*\.js:\d+/); // no stack traces
    }
    for (const [args, field] of [
      [{ limit: 0 }, "limit"],
      [{ limit: 201 }, "limit"],
      [{ status: "bogus" }, "status"],
    ] as const) {
      const r = await h.call("agent_list_sessions", args);
      expect(r.isError).toBe(true);
      expect(r.json.error.code).toBe("validation_error");
      expect(r.json.error.message).toContain(field);
    }
    const missing = await h.call("agent_get_session", { session_id: "sess_missing" });
    expect(missing.json.error.code).toBe("session_not_found");
    const unknown = await h.call("agent_does_not_exist", {});
    expect(unknown.json.error.code).toBe("tool_not_admitted");
    expect(dbRows("SELECT session_id FROM sessions")).toEqual([]);
    expect(fake.requests).toHaveLength(0);
    await outside.cleanup();
  });
});

describe("provider failures", () => {
  it.each([
    [errorReply(401, "invalid x-api-key"), "backend_auth_failure", "api_auth_failed", false],
    [errorReply(429, "slow down"), "backend_limit_reached", "api_rate_limited", true],
    [errorReply(500, "boom"), "backend_unavailable", "api_overloaded", true],
    [{ drop: true } as const, "backend_unavailable", "api_connection_error", true],
  ])("classifies %# and leaves a failed, continuable session", async (reply, cls, code, retryable) => {
    dir = await tempStateDir();
    const h = await server();
    fake.enqueue(reply);
    const r = await h.call("agent_run_task", { task: "do something" });
    expect(r.isError).toBe(true);
    expect(r.json).toMatchObject({ ok: false, status: "failed" });
    expect(r.json.errors[0].details).toMatchObject({
      failure_class: cls,
      failure_code: code,
      retryable,
      fallback_recommended: true,
    });
    expect(r.text).not.toContain("sk-test-secret-key-0001");
    fake.enqueue("recovered");
    const c = await h.call("agent_continue_session", { session_id: r.json.session_id, message: "try again" });
    expect(c.json).toMatchObject({ ok: true, status: "completed" });
    expect(c.json.result.output_text).toBe("recovered");
    // The failed request left no dangling user turn in the replay.
    expect(fake.requests.at(-1)!.body.messages).toHaveLength(1);
  });
});

describe("failure after completed turns", () => {
  it("counts the turns that ran before the provider failed", async () => {
    dir = await tempStateDir();
    const h = await server();
    fake.enqueue(toolUseReply("list_directory", { path: "." }), errorReply(500, "boom"));
    const r = await h.call("agent_run_task", { task: "look around" });
    expect(r.json).toMatchObject({ ok: false, status: "failed" });
    expect(r.json.result.metrics.turns).toBe(1);
    const got = await h.call("agent_get_session", { session_id: r.json.session_id });
    expect(got.json.turn_count).toBe(1);
  });
});

describe("crash recovery and locks", () => {
  it("a SIGKILLed run is interrupted after restart and can be continued", async () => {
    dir = await tempStateDir();
    const h = await server();
    fake.enqueue({ hang: true });
    const pending = h.call("agent_run_task", { task: "long job" }).catch(() => null);
    await fake.waitForRequests(1);
    const [row] = dbRows("SELECT session_id, status FROM sessions") as {
      session_id: string;
      status: string;
    }[];
    expect(row.status).toBe("running");
    h.kill("SIGKILL");
    await h.waitForExit();
    await pending;

    const h2 = await server();
    const got = await h2.call("agent_get_session", { session_id: row.session_id, include_events: true });
    expect(got.json.status).toBe("interrupted");
    expect(got.json.events.map((e: { event_type: string }) => e.event_type)).toContain("session_interrupted");
    fake.reset();
    fake.enqueue("done now");
    const c = await h2.call("agent_continue_session", { session_id: row.session_id, message: "resume" });
    expect(c.json).toMatchObject({ ok: true, status: "completed" });
  });

  it("a second server on the same state dir leaves a live run alone", async () => {
    dir = await tempStateDir();
    const a = await server();
    fake.enqueue({ text: "slow answer", delayMs: 2500 });
    const running = a.call("agent_run_task", { task: "slow job" });
    await fake.waitForRequests(1);
    const b = await server();
    const [row] = dbRows("SELECT session_id FROM sessions") as { session_id: string }[];
    const seen = await b.call("agent_get_session", { session_id: row.session_id });
    expect(seen.json.status).toBe("running");
    const conflict = await b.call("agent_continue_session", {
      session_id: row.session_id,
      message: "me too",
    });
    expect(conflict.json.errors[0].code).toBe("session_conflict");
    expect(conflict.json.status).toBe("running");
    const done = await running;
    expect(done.json).toMatchObject({ ok: true, status: "completed" });
    const after = await b.call("agent_get_session", { session_id: row.session_id });
    expect(after.json.status).toBe("completed");
  });

  it("two concurrent continues: one runs, the other conflicts and changes nothing", async () => {
    dir = await tempStateDir();
    const h = await server();
    fake.enqueue("first");
    const r = await h.call("agent_run_task", { task: "start" });
    const id = r.json.session_id;
    fake.enqueue({ text: "second", delayMs: 800 });
    const [x, y] = await Promise.all([
      h.call("agent_continue_session", { session_id: id, message: "one" }),
      h.call("agent_continue_session", { session_id: id, message: "two" }),
    ]);
    const codes = [x.json, y.json].map((e) => (e.ok ? "ok" : e.errors[0].code)).sort();
    expect(codes).toEqual(["ok", "session_conflict"]);
    const loser = x.json.ok ? y.json : x.json;
    expect(loser.status).toBe("running");
    const got = await h.call("agent_get_session", { session_id: id });
    expect(got.json).toMatchObject({ status: "completed", request_count: 2 });
    expect(fake.requests).toHaveLength(2);
  });
});

describe("startup configuration errors", () => {
  it("lists every problem on stderr, writes nothing to stdout, creates no state", async () => {
    dir = await tempStateDir();
    const state = join(dir.dir, "state-never");
    const r = await runCli([], {
      cwd: dir.dir,
      env: {
        CLAUDE_AGENT_MCP_STATE_DIR: state,
        CLAUDE_AGENT_MCP_PORT: "eighty",
        CLAUDE_AGENT_MCP_EXECUTION_BACKEND: "api",
        CLAUDE_AGENT_MCP_OPERATOR_PROFILE: "turbo",
        CLAUDE_AGENT_MCP_LOCK_TTL: "-3",
      },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    for (const v of [
      "CLAUDE_AGENT_MCP_PORT",
      "CLAUDE_AGENT_MCP_OPERATOR_PROFILE",
      "ANTHROPIC_API_KEY",
      "CLAUDE_AGENT_MCP_LOCK_TTL",
    ]) {
      expect(r.stderr).toContain(v);
    }
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(state)).toBe(false);

    const backend = await runCli([], {
      cwd: dir.dir,
      env: { CLAUDE_AGENT_MCP_STATE_DIR: state, CLAUDE_AGENT_MCP_EXECUTION_BACKEND: "gpt" },
    });
    expect(backend.code).toBe(1);
    expect(backend.stderr).toContain('CLAUDE_AGENT_MCP_EXECUTION_BACKEND: "gpt"');
    expect(existsSync(state)).toBe(false);
  });

  it("reads .env from the working directory, real env winning", async () => {
    dir = await tempStateDir();
    writeFileSync(
      join(dir.dir, ".env"),
      `CLAUDE_AGENT_MCP_MODEL=from-dotenv\nCLAUDE_AGENT_MCP_LOG_LEVEL=ERROR\n`,
    );
    const h = await server({ CLAUDE_AGENT_MCP_LOG_LEVEL: "DEBUG" });
    const s = await h.call("agent_get_runtime_status", {});
    expect(s.json.model).toBe("claude-fake-model");
    const h2 = await server({ CLAUDE_AGENT_MCP_MODEL: "" });
    const s2 = await h2.call("agent_get_runtime_status", {});
    expect(s2.json.model).toBe("from-dotenv");
    expect(s2.json).toMatchObject({ ok: true, version: pkg.version, backend: "api", transport: "stdio" });
    expect(JSON.stringify(s2.json)).not.toContain("sk-test-secret-key-0001");
  });
});
