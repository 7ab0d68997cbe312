// How the backend invokes `claude`: argv per profile, cwd, env, stdin, and how the JSON result
// becomes a RunResult.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLAUDE_CODE_CAPABILITIES, checkClaudeCli } from "../../src/backends/claude-code/index.js";
import { buildStatus } from "../../src/server/status.js";
import { openStore } from "../../src/sessions/store.js";
import { FAKE_CLAUDE, flagValue, type Harness, setup } from "./harness.js";

let h: Harness;
afterEach(() => h?.cleanup());

describe("argv, cwd, env and stdin", () => {
  it("general profile: -p stream-json, model, max turns, acceptEdits, add-dir, system prompt by flag", async () => {
    h = setup();
    await h.backend.run(h.request({ maxTurns: 7 }));
    const [rec] = h.records();
    expect(rec.argv.slice(0, 4)).toEqual(["-p", "--output-format", "stream-json", "--verbose"]);
    expect(flagValue(rec.argv, "--model")).toBe("claude-test-model");
    expect(flagValue(rec.argv, "--max-turns")).toBe("7");
    expect(flagValue(rec.argv, "--permission-mode")).toBe("acceptEdits");
    expect(rec.argv).not.toContain("--disallowedTools");
    expect(rec.argv).not.toContain("--allowedTools");
    expect(flagValue(rec.argv, "--add-dir")).toBe(h.extra);
    expect(rec.argv.filter((a) => a === "--add-dir")).toHaveLength(1);
    expect(flagValue(rec.argv, "--append-system-prompt")).toBe("You are a careful agent.");
    expect(rec.argv).not.toContain("--resume");
    expect(rec.cwd).toBe(h.work);
  });

  it("sends the prompt on stdin only, never in argv, and stdin is a fresh pipe", async () => {
    h = setup();
    const prompt = `A long task ${"x".repeat(200_000)} END`;
    const r = await h.backend.run(h.request({ prompt }));
    const [rec] = h.records();
    expect(rec.stdin).toBe(prompt);
    expect(rec.argv.join(" ")).not.toContain("A long task");
    expect(["pipe", "socket"]).toContain(rec.stdin_kind);
    expect(r.outputText).toBe(`echo: ${prompt}`);
  });

  it("removes CLAUDECODE and ANTHROPIC_API_KEY from the child env by default", async () => {
    h = setup();
    await h.backend.run(h.request());
    const [rec] = h.records();
    expect(rec.env.CLAUDECODE).toBeNull();
    expect(rec.env.ANTHROPIC_API_KEY).toBeNull();
    expect(rec.env.FAKE_MARKER).toBe("marker");
  });

  it("passes ANTHROPIC_API_KEY when CLAUDE_AGENT_MCP_CLAUDE_CODE_INHERIT_API_KEY is on", async () => {
    h = setup({ env: { CLAUDE_AGENT_MCP_CLAUDE_CODE_INHERIT_API_KEY: "true" } });
    await h.backend.run(h.request());
    const [rec] = h.records();
    expect(rec.env.ANTHROPIC_API_KEY).toBe("sk-test-parent-key");
    expect(rec.env.CLAUDECODE).toBeNull();
  });

  it("inherit uses the configured key (e.g. from .env) when the process has none", async () => {
    h = setup({
      env: { CLAUDE_AGENT_MCP_CLAUDE_CODE_INHERIT_API_KEY: "true", ANTHROPIC_API_KEY: "sk-from-config" },
      childEnv: { ANTHROPIC_API_KEY: "" },
    });
    await h.backend.run(h.request());
    expect(h.records()[0].env.ANTHROPIC_API_KEY).toBe("sk-from-config");
  });

  it("verification profile: read-only tools only, default permission mode", async () => {
    h = setup();
    await h.backend.run(h.request({ workflow: "verify_task", profileName: "verification", readOnly: true }));
    const [rec] = h.records();
    expect(flagValue(rec.argv, "--permission-mode")).toBe("default");
    expect(flagValue(rec.argv, "--allowedTools")?.split(",")).toEqual(["Read", "Grep", "Glob", "LS"]);
    const denied = flagValue(rec.argv, "--disallowedTools")?.split(",") ?? [];
    for (const t of ["Bash", "Edit", "MultiEdit", "Write", "NotebookEdit"]) expect(denied).toContain(t);
  });

  it("operator tool lists override the profile defaults", async () => {
    h = setup({
      env: {
        CLAUDE_AGENT_MCP_CLAUDE_CODE_ALLOWED_TOOLS: "Read,Bash(npm test:*)",
        CLAUDE_AGENT_MCP_CLAUDE_CODE_DISALLOWED_TOOLS: "WebFetch",
      },
    });
    await h.backend.run(h.request());
    const [rec] = h.records();
    expect(flagValue(rec.argv, "--allowedTools")).toBe("Read,Bash(npm test:*)");
    expect(flagValue(rec.argv, "--disallowedTools")).toBe("WebFetch");
  });

  it("overrides cannot make the read-only profile writable", async () => {
    h = setup({
      env: {
        CLAUDE_AGENT_MCP_CLAUDE_CODE_ALLOWED_TOOLS: "Read,Bash(npm test:*),Write",
        CLAUDE_AGENT_MCP_CLAUDE_CODE_DISALLOWED_TOOLS: "WebFetch",
      },
    });
    await h.backend.run(h.request({ readOnly: true, profileName: "verification", workflow: "verify_task" }));
    const [rec] = h.records();
    expect(flagValue(rec.argv, "--allowedTools")).toBe("Read");
    const denied = flagValue(rec.argv, "--disallowedTools")?.split(",") ?? [];
    expect(denied).toContain("WebFetch");
    expect(denied).toContain("Bash");
    expect(denied).toContain("Write");
  });

  it("omits --model when the model is configured empty", async () => {
    h = setup({ env: { CLAUDE_AGENT_MCP_MODEL: " " } });
    await h.backend.run(h.request());
    expect(h.records()[0].argv).not.toContain("--model");
  });

  it("a session working directory equal to every allowed dir adds no --add-dir", async () => {
    h = setup();
    await h.backend.run(h.request({ allowedDirs: [h.work] }));
    expect(h.records()[0].argv).not.toContain("--add-dir");
  });
});

describe("result normalisation", () => {
  it("maps the result object: text, session id, turns, usage, cost, stop reason, model, transcript", async () => {
    h = setup({
      script: {
        steps: [
          {
            text: "The answer is 42.",
            session_id: "cli-session-1",
            num_turns: 3,
            cost: 0.5,
            usage: { input_tokens: 7, cache_read_input_tokens: 3, output_tokens: 11 },
            tool_uses: ["Read", "Grep"],
          },
        ],
      },
    });
    const r = await h.backend.run(h.request());
    expect(r.outputText).toBe("The answer is 42.");
    expect(r.providerSessionId).toBe("cli-session-1");
    expect(r.turns).toBe(3);
    expect(r.usage).toEqual({ inputTokens: 10, outputTokens: 11, costUsd: 0.5 });
    expect(r.stopReason).toBe("end_turn");
    expect(r.model).toBe("claude-fake-1");
    expect(r.transcript).toEqual([{ role: "assistant", content: "The answer is 42." }]);
    expect(r.warnings).toEqual([]);
    expect(h.progress.some((p) => p.includes("calling Read"))).toBe(true);
    expect(h.progress.some((p) => p.includes("calling Grep"))).toBe(true);
  });

  it("permission_denials become warnings", async () => {
    h = setup({
      script: {
        steps: [
          {
            text: "partial",
            permission_denials: [
              { tool_name: "Bash", tool_use_id: "t1", tool_input: { command: "rm -rf /" } },
              { tool_name: "Bash", tool_use_id: "t2", tool_input: {} },
              { tool_name: "Write", tool_use_id: "t3", tool_input: {} },
            ],
          },
        ],
      },
    });
    const r = await h.backend.run(h.request());
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings[0]).toContain("'Bash' (2 times)");
    expect(r.warnings[1]).toContain("'Write'");
    expect(r.warnings.join(" ")).not.toContain("rm -rf");
    expect(r.resultExtras?.permission_denials).toEqual(["Bash", "Write"]);
  });

  it("error_max_turns is a result with a max_turns_reached warning, not a failure", async () => {
    h = setup({ script: { steps: [{ subtype: "error_max_turns", is_error: false, num_turns: 4 }] } });
    const r = await h.backend.run(h.request({ maxTurns: 4 }));
    expect(r.stopReason).toBe("max_turns");
    expect(r.turns).toBe(4);
    expect(r.outputText).toBe("ok"); // the last assistant text, since the result has none
    expect(r.warnings.some((w) => w.startsWith("max_turns_reached"))).toBe(true);
  });

  it("empty output is a warning in run_task, not an error", async () => {
    h = setup({ script: { steps: [{ text: "" }] } });
    const r = await h.backend.run(h.request());
    expect(r.outputText).toBe("");
    expect(r.warnings.some((w) => /empty/i.test(w))).toBe(true);
  });

  it("empty output in verify_task is returned as is (the service decides)", async () => {
    h = setup({ script: { steps: [{ text: "" }] } });
    const r = await h.backend.run(
      h.request({ workflow: "verify_task", readOnly: true, profileName: "verification" }),
    );
    expect(r.outputText).toBe("");
    expect(r.warnings).toEqual([]);
  });
});

describe("CLI check and status", () => {
  it("checkClaudeCli reports the version", async () => {
    expect(await checkClaudeCli(FAKE_CLAUDE)).toEqual({ ok: true, version: "9.9.9 (Claude Code)" });
  });

  it("checkClaudeCli reports a missing binary and a failing --version", async () => {
    const missing = await checkClaudeCli("/nonexistent/claude");
    expect(missing.ok).toBe(false);
    expect(missing.error).toContain("not executable");
    h = setup({ script: { version_exit: 3 } });
    const bad = await h.backend.cliCheck;
    expect(bad.ok).toBe(false);
    expect(h.backend.describe().cli_check).toBe("failed");
    expect(String(h.backend.describe().cli_error)).toContain("exited with code 3");
  });

  it("describe(): CLI path and version, capability flags, settings as upstream", async () => {
    h = setup({ env: { CLAUDE_AGENT_MCP_OPERATOR_PROFILE: "workflow_limited" } });
    await h.backend.cliCheck;
    const d = h.backend.describe();
    expect(d.cli_path).toBe(FAKE_CLAUDE);
    expect(d.cli_version).toBe("9.9.9 (Claude Code)");
    expect(d.cli_check).toBe("ok");
    expect(d.capability_flags).toBeUndefined(); // stated once, at the status snapshot's top level
    mkdirSync(h.config.stateDir, { recursive: true });
    const store = openStore(join(h.config.stateDir, "status.db"));
    const st = buildStatus({
      config: h.config,
      backend: h.backend,
      store,
      startedAt: Date.now(),
      activeRuns: () => 0,
    });
    store.close();
    expect(st.capability_flags).toMatchObject({
      limited_tool_forwarding_enabled: false,
      execution_mediation_enabled: true,
      federation_enabled: false,
      backend_supports_execution_mediation: true,
      backend_supports_native_multiturn: true,
      backend_supports_downstream_tools: false,
    });
    expect(st.continuation_settings).toEqual({
      max_continuation_turns: 5,
      max_continuation_warnings: 3,
      max_continuation_forwarding_events: 3,
      include_verification_context: true,
      include_tool_downgrade_context: true,
    });
    expect(st.mediation_settings).toEqual({
      enabled: true,
      max_actions_per_turn: 5,
      allowed_action_types: [],
      include_results_in_continuation: true,
    });
    expect(st.workflow_settings).toEqual({
      max_workflow_steps: 3,
      allowed_tools: [],
      denied_tools: [],
      max_session_approvals: 30,
      include_rejected_in_continuation: false,
      policy_profile: "workflow_limited",
    });
    expect(JSON.stringify(d)).not.toContain("sk-test");
    expect(h.backend.capabilities).toBe(CLAUDE_CODE_CAPABILITIES);
    expect(Object.isFrozen(CLAUDE_CODE_CAPABILITIES)).toBe(true);
  });

  it("a hanging --version does not block creation", async () => {
    h = setup({ script: { version_hang: true } });
    expect(h.backend.describe().cli_check).toBe("pending");
  });
});
