// Failure classification (v1.1.2 classes, claude_code_* codes), garbage output, timeout with
// process-tree kill, and abort.
import { chmodSync, copyFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BackendError, RunAbortedError } from "../../src/backends/backend.js";
import { ClaudeCodeBackendError } from "../../src/backends/claude-code/index.js";
import { FAKE_CLAUDE, type Harness, setup, stillAliveAfter } from "./harness.js";

let h: Harness;
afterEach(() => h?.cleanup());

async function failure(step: Record<string, unknown>, env?: Record<string, string>): Promise<BackendError> {
  h = setup({ script: { steps: [step] }, env });
  const err = await h.backend.run(h.request()).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BackendError);
  return err as BackendError;
}

describe("failure classification", () => {
  it("a CLI that disappeared is claude_code_unavailable / not_installed", async () => {
    const tmp = setup();
    const copy = join(tmp.dir, "claude");
    copyFileSync(FAKE_CLAUDE, copy);
    chmodSync(copy, 0o755);
    h = setup({ cliPath: copy });
    unlinkSync(copy);
    const err = (await h.backend.run(h.request()).catch((e) => e)) as BackendError;
    tmp.cleanup();
    expect(err).toBeInstanceOf(ClaudeCodeBackendError);
    expect(err.code).toBe("claude_code_unavailable");
    expect(err.failure).toEqual({
      failure_class: "backend_unavailable",
      failure_code: "claude_code_not_installed",
      retryable: false,
      fallback_recommended: true,
    });
    expect(err.message).toContain("CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH");
  });

  it("a CLI without the exec bit is not_installed, not a crash", async () => {
    const tmp = setup();
    const copy = join(tmp.dir, "claude");
    copyFileSync(FAKE_CLAUDE, copy);
    chmodSync(copy, 0o644);
    h = setup({ cliPath: copy });
    const err = (await h.backend.run(h.request()).catch((e) => e)) as BackendError;
    tmp.cleanup();
    expect(err.failure.failure_code).toBe("claude_code_not_installed");
  });

  it("is_error with a login message is not_authenticated", async () => {
    const err = await failure({ is_error: true, text: "Invalid API key · Please run /login" });
    expect(err.code).toBe("claude_code_invocation_error");
    expect(err.failure.failure_class).toBe("backend_auth_failure");
    expect(err.failure.failure_code).toBe("claude_code_not_authenticated");
    expect(err.failure.retryable).toBe(false);
    expect(err.message).toContain("Invalid API key");
  });

  it("api_error_status 401 is not_authenticated whatever the text says", async () => {
    const err = await failure({ is_error: true, text: "request failed", api_error_status: 401 });
    expect(err.failure.failure_code).toBe("claude_code_not_authenticated");
    expect(err.message).toContain("401");
  });

  it("api_error_status 429 is limit_reached (retryable)", async () => {
    const err = await failure({ is_error: true, text: "request failed", api_error_status: 429 });
    expect(err.failure.failure_class).toBe("backend_limit_reached");
    expect(err.failure.failure_code).toBe("claude_code_limit_reached");
    expect(err.failure.retryable).toBe(true);
  });

  it("a usage-limit message is limit_reached", async () => {
    const err = await failure({ is_error: true, text: "Claude AI usage limit reached|1760000000" });
    expect(err.failure.failure_code).toBe("claude_code_limit_reached");
  });

  it("non-zero exit with stderr and no JSON is a process error carrying stderr", async () => {
    const err = await failure({ stdout: "", stderr: "segmentation fault in module X\n", exit_code: 2 });
    expect(err.failure.failure_class).toBe("backend_invocation_error");
    expect(err.failure.failure_code).toBe("claude_code_process_error");
    expect(err.message).toContain("exited with code 2");
    expect(err.message).toContain("segmentation fault");
  });

  it("non-zero exit with a login hint on stderr is not_authenticated", async () => {
    const err = await failure({
      stdout: "",
      stderr: "Error: not logged in. Run claude login.\n",
      exit_code: 1,
    });
    expect(err.failure.failure_code).toBe("claude_code_not_authenticated");
  });

  it("reads the error from stdout too (the CLI often prints it there)", async () => {
    const err = await failure({ stdout: "Credit balance is too low\n", exit_code: 1 });
    expect(err.failure.failure_code).toBe("claude_code_limit_reached");
    expect(err.message).toContain("Credit balance");
  });

  it("error_during_execution is a process error", async () => {
    const err = await failure({
      subtype: "error_during_execution",
      is_error: true,
      errors: ["tool crashed"],
    });
    expect(err.failure.failure_code).toBe("claude_code_process_error");
    expect(err.message).toContain("error_during_execution");
    expect(err.message).toContain("tool crashed");
  });

  it("garbage on stdout with exit 0 is unparseable_response", async () => {
    const err = await failure({ stdout: "<html>definitely not json</html>\n{broken\n" });
    expect(err.failure.failure_class).toBe("backend_unusable_response");
    expect(err.failure.failure_code).toBe("claude_code_unparseable_response");
    expect(err.failure.retryable).toBe(true);
  });

  it("nothing on stdout with exit 0 is empty_response", async () => {
    const err = await failure({ stdout: "" });
    expect(err.failure.failure_code).toBe("claude_code_empty_response");
  });

  it("a stream without a result object is unparseable_response", async () => {
    const err = await failure({ no_result: true });
    expect(err.failure.failure_code).toBe("claude_code_unparseable_response");
    expect(err.message).toContain("no result object");
  });

  it("a pretty-printed JSON result (several lines) still parses", async () => {
    const result = {
      type: "result",
      subtype: "success",
      is_error: false,
      result: "pretty",
      session_id: "s-pretty",
      num_turns: 2,
      total_cost_usd: 0.1,
      usage: { input_tokens: 1, output_tokens: 2 },
    };
    h = setup({ script: { steps: [{ stdout: `${JSON.stringify(result, null, 2)}\n` }] } });
    const r = await h.backend.run(h.request());
    expect(r.outputText).toBe("pretty");
    expect(r.providerSessionId).toBe("s-pretty");
    expect(r.turns).toBe(2);
  });

  it("garbage lines around a valid stream are tolerated", async () => {
    h = setup({
      script: {
        steps: [
          {
            stdout: `warning: something\n${JSON.stringify({ type: "result", subtype: "success", is_error: false, result: "fine", session_id: "s1", num_turns: 1 })}\n`,
          },
        ],
      },
    });
    const r = await h.backend.run(h.request());
    expect(r.outputText).toBe("fine");
  });
});

describe("timeout and abort kill the whole process tree", () => {
  it("timeout: claude_code_timeout, and the CLI and its grandchild are gone", async () => {
    h = setup({
      script: { steps: [{ hang: true, grandchild: true }] },
      env: { CLAUDE_AGENT_MCP_CLAUDE_CODE_TIMEOUT: "1" },
    });
    const started = Date.now();
    const err = (await h.backend.run(h.request()).catch((e) => e)) as BackendError;
    expect(err).toBeInstanceOf(BackendError);
    expect(err.failure.failure_class).toBe("backend_timeout");
    expect(err.failure.failure_code).toBe("claude_code_timeout");
    expect(err.failure.retryable).toBe(true);
    expect(err.message).toContain("timed out after 1s");
    expect(Date.now() - started).toBeLessThan(5000);
    const [rec] = h.records();
    expect(rec.grandchild_pid).toBeGreaterThan(0);
    expect(await stillAliveAfter(rec.pid, 2000)).toBe(false);
    expect(await stillAliveAfter(rec.grandchild_pid as number, 2000)).toBe(false);
  });

  it("a CLI that ignores SIGTERM is SIGKILLed after the grace period", async () => {
    h = setup({
      script: { steps: [{ hang: true, grandchild: true, ignore_sigterm: true }] },
      env: { CLAUDE_AGENT_MCP_CLAUDE_CODE_TIMEOUT: "1" },
      killGraceMs: 300,
    });
    const err = (await h.backend.run(h.request()).catch((e) => e)) as BackendError;
    expect(err.failure.failure_code).toBe("claude_code_timeout");
    const [rec] = h.records();
    expect(await stillAliveAfter(rec.pid, 2000)).toBe(false);
    expect(await stillAliveAfter(rec.grandchild_pid as number, 2000)).toBe(false);
  });

  it("abort via signal: RunAbortedError('cancelled'), tree killed", async () => {
    h = setup({ script: { steps: [{ hang: true, grandchild: true }] } });
    const ac = new AbortController();
    const p = h.backend.run(h.request({ signal: ac.signal }));
    // wait until the fake has recorded itself (it is running)
    const end = Date.now() + 5000;
    while (!h.records().length && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    ac.abort();
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(RunAbortedError);
    expect((err as RunAbortedError).reason).toBe("cancelled");
    const [rec] = h.records();
    expect(await stillAliveAfter(rec.pid, 2000)).toBe(false);
    expect(await stillAliveAfter(rec.grandchild_pid as number, 2000)).toBe(false);
  });

  it("an already aborted signal never starts the CLI", async () => {
    h = setup();
    const ac = new AbortController();
    ac.abort();
    await expect(h.backend.run(h.request({ signal: ac.signal }))).rejects.toBeInstanceOf(RunAbortedError);
    expect(h.records()).toEqual([]);
  });
});
