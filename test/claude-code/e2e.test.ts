// The built server over stdio with CLAUDE_AGENT_MCP_EXECUTION_BACKEND=claude_code and the fake
// `claude`: run → continue (native resume) → get, a classified failure, and the status snapshot.
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startServer } from "../helpers/mcp-harness.js";
import { FAKE_CLAUDE, type FakeRecord, flagValue } from "./harness.js";

describe("claude_code backend over MCP stdio", () => {
  let dir: string;
  let server: Harness;
  const recordPath = () => join(dir, "record.jsonl");
  const records = (): FakeRecord[] =>
    existsSync(recordPath())
      ? readFileSync(recordPath(), "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l))
      : [];

  beforeAll(async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), "cc-e2e-")));
    const script = join(dir, "script.json");
    writeFileSync(
      script,
      JSON.stringify({
        version: "2.0.0 (Claude Code)",
        steps: [
          { text: "First answer.", session_id: "cli-e2e-1", num_turns: 2, cost: 0.25 },
          { echo: true },
          { is_error: true, text: "Invalid API key · Please run /login" },
        ],
      }),
    );
    server = await startServer({
      cwd: dir,
      env: {
        CLAUDE_AGENT_MCP_EXECUTION_BACKEND: "claude_code",
        CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH: FAKE_CLAUDE,
        CLAUDE_AGENT_MCP_STATE_DIR: join(dir, "state"),
        FAKE_CLAUDE_SCRIPT: script,
        FAKE_CLAUDE_RECORD: recordPath(),
        ANTHROPIC_API_KEY: "sk-should-not-reach-claude",
      },
    });
  });

  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("run → continue (resume) → get", async () => {
    const run = await server.call("agent_run_task", { task: "Say something." });
    expect(run.isError).toBe(false);
    expect(run.json).toMatchObject({ ok: true, status: "completed", workflow: "run_task" });
    expect(run.json.result.output_text).toBe("First answer.");
    expect(run.json.result.metrics).toMatchObject({ backend: "claude_code", turns: 2, cost_usd: 0.25 });
    const sessionId = run.json.session_id as string;

    const first = records()[0];
    expect(first.stdin).toBe("Say something.");
    expect(first.cwd).toBe(dir);
    expect(first.env.ANTHROPIC_API_KEY).toBeNull();
    expect(flagValue(first.argv, "--permission-mode")).toBe("acceptEdits");

    const cont = await server.call("agent_continue_session", { session_id: sessionId, message: "And then?" });
    expect(cont.isError).toBe(false);
    expect(cont.json).toMatchObject({ ok: true, status: "completed", workflow: "continue_session" });
    expect(cont.json.result.output_text).toBe("echo: And then?");
    expect(cont.json.result.continuation).toEqual({ mode: "resume", provider_session_id: "cli-e2e-1" });
    expect(flagValue(records()[1].argv, "--resume")).toBe("cli-e2e-1");

    const got = await server.call("agent_get_session", { session_id: sessionId });
    expect(got.json).toMatchObject({ session_id: sessionId, status: "completed", backend: "claude_code" });
    expect(got.json.turn_count).toBe(3);
    expect(got.json.latest_result.result.continuation.mode).toBe("resume");
  });

  it("a classified CLI failure comes back as an error envelope with failure details", async () => {
    const run = await server.call("agent_run_task", { task: "Fail please." });
    expect(run.isError).toBe(true);
    expect(run.json).toMatchObject({ ok: false, status: "failed" });
    expect(run.json.errors[0]).toMatchObject({
      code: "claude_code_invocation_error",
      details: {
        failure_class: "backend_auth_failure",
        failure_code: "claude_code_not_authenticated",
        retryable: false,
        fallback_recommended: true,
      },
    });
  });

  it("the status snapshot shows the CLI path and version", async () => {
    const st = await server.call("agent_get_runtime_status", {});
    expect(st.json.backend).toBe("claude_code");
    const details = st.json.backend_details;
    expect(details.cli_path).toBe(FAKE_CLAUDE);
    expect(details.cli_version).toBe("2.0.0 (Claude Code)");
    expect(JSON.stringify(st.json)).not.toContain("sk-should-not-reach-claude");
  });
});
