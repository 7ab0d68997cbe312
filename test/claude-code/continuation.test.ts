// Continuation: native --resume first, the reconstructed prompt (upstream §2–3) as fallback, and
// the events that say which was used.
import { afterEach, describe, expect, it } from "vitest";
import type { BackendError, RunEvent, TranscriptMessage } from "../../src/backends/backend.js";
import {
  buildContext,
  RECONSTRUCTION_VERSION,
  renderContinuationPrompt,
} from "../../src/backends/claude-code/continuation.js";
import { SECTION_SEPARATOR } from "../../src/backends/claude-code/prompt.js";
import { loadConfig } from "../../src/config.js";
import { flagValue, type Harness, setup } from "./harness.js";

let h: Harness;
afterEach(() => h?.cleanup());

const history: TranscriptMessage[] = [
  { role: "user", content: "First task: list the files." },
  { role: "assistant", content: "Here are the files: a.txt, b.txt.\nSecond line of the answer." },
  { role: "user", content: "Now summarise a.txt." },
  { role: "assistant", content: [{ type: "text", text: "a.txt says hello." }] },
];

function cont(overrides: Record<string, unknown> = {}) {
  return h.request({
    workflow: "continue_session",
    isContinuation: true,
    prompt: "And b.txt?",
    providerSessionId: "cli-prev-session",
    history,
    sessionSummary: "Files were listed and a.txt summarised.",
    turnOffset: 2,
    ...overrides,
  });
}

describe("native resume", () => {
  it("uses --resume <provider session> with just the new message", async () => {
    h = setup({ script: { steps: [{ text: "b.txt says bye." }] } });
    const r = await h.backend.run(cont());
    const recs = h.records();
    expect(recs).toHaveLength(1);
    expect(flagValue(recs[0].argv, "--resume")).toBe("cli-prev-session");
    expect(recs[0].stdin).toBe("And b.txt?");
    expect(flagValue(recs[0].argv, "--append-system-prompt")).toBe("You are a careful agent.");
    expect(r.outputText).toBe("b.txt says bye.");
    expect(r.providerSessionId).toBe("cli-prev-session");
    expect(r.resultExtras?.continuation).toEqual({ mode: "resume", provider_session_id: "cli-prev-session" });
    const rendered = h.events.filter((e) => e.type === "session_continuation_prompt_rendered");
    expect(rendered).toHaveLength(1);
    expect(rendered[0].payload).toMatchObject({
      continuation_mode: "resume",
      reconstruction_version: "v1.0.0",
    });
    expect(rendered[0].turnIndex).toBe(2);
    expect(h.events.some((e) => e.type === "session_continuation_context_built")).toBe(false);
  });

  it("falls back to the reconstructed prompt when the resume fails", async () => {
    h = setup({ script: { steps: [{ resume_fail: true }, { text: "recovered", session_id: "cli-new" }] } });
    const r = await h.backend.run(cont());
    const recs = h.records();
    expect(recs).toHaveLength(2);
    expect(flagValue(recs[0].argv, "--resume")).toBe("cli-prev-session");
    expect(recs[1].argv).not.toContain("--resume");
    const prompt = recs[1].stdin;
    expect(prompt).toContain("[Continuation Session]");
    expect(prompt).toContain("Session: sess_test_1");
    expect(prompt).toContain("[Session Summary]\nFiles were listed and a.txt summarised.");
    expect(prompt).toContain("[User]\nFirst task: list the files.");
    expect(prompt).toContain("[Assistant]\nHere are the files: a.txt, b.txt.\nSecond line of the answer.");
    expect(prompt).toContain("[Assistant]\na.txt says hello.");
    expect(prompt).toContain("[Current Request]\nAnd b.txt?");
    expect(prompt.toLowerCase()).toContain("continuing this session");
    expect(r.outputText).toBe("recovered");
    expect(r.providerSessionId).toBe("cli-new");
    expect(r.resultExtras?.continuation).toMatchObject({
      mode: "reconstructed",
      reason: "resume_failed",
      reconstruction_version: "v1.0.0",
    });
    const continuation = r.resultExtras?.continuation as Record<string, unknown>;
    expect(String(continuation.resume_error)).toContain("No conversation found");
    expect(r.warnings.some((w) => w.includes("Native resume"))).toBe(true);
    const types = h.events.map((e) => e.type);
    expect(types).toEqual([
      "session_continuation_resume_fallback",
      "session_continuation_context_built",
      "session_continuation_prompt_rendered",
    ]);
    expect(h.events[0].payload).toMatchObject({
      provider_session_id: "cli-prev-session",
      failure_code: "claude_code_process_error",
    });
    expect(h.events[1].payload.policy).toEqual({
      max_recent_turns: 5,
      max_warnings: 3,
      max_forwarding_events: 3,
      include_verification_context: true,
      include_tool_downgrade_context: true,
    });
    expect(h.events[2].payload).toMatchObject({ continuation_mode: "reconstructed" });
  });

  it("does not fall back when the resume failed for auth (the fallback would fail too)", async () => {
    h = setup({ script: { steps: [{ is_error: true, text: "Invalid API key · Please run /login" }] } });
    const err = (await h.backend.run(cont()).catch((e) => e)) as BackendError;
    expect(err.failure.failure_code).toBe("claude_code_not_authenticated");
    expect(h.records()).toHaveLength(1);
  });

  it("without a provider session goes straight to the reconstructed prompt", async () => {
    h = setup({ script: { steps: [{ text: "ok", session_id: "cli-fresh" }] } });
    const r = await h.backend.run(cont({ providerSessionId: null }));
    const recs = h.records();
    expect(recs).toHaveLength(1);
    expect(recs[0].argv).not.toContain("--resume");
    expect(recs[0].stdin).toContain("[Continuation Session]");
    expect(r.resultExtras?.continuation).toMatchObject({
      mode: "reconstructed",
      reason: "no_provider_session",
    });
  });

  it("emits context_truncated when turns are omitted (window from config)", async () => {
    h = setup({ env: { CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_CONTINUATION_TURNS: "1" } });
    await h.backend.run(cont({ providerSessionId: null }));
    const truncated = h.events.find((e) => e.type === "session_continuation_context_truncated");
    expect(truncated?.payload.stats).toMatchObject({ turns_included: 1, turns_omitted: 1 });
    const prompt = h.records()[0].stdin;
    expect(prompt).not.toContain("First task");
    expect(prompt).toContain("Now summarise a.txt.");
    expect(prompt).toContain("Context: 1 turn(s) included, 1 omitted");
  });
});

describe("reconstructed prompt rendering", () => {
  const cfg = () => {
    const r = loadConfig({
      env: {
        CLAUDE_AGENT_MCP_EXECUTION_BACKEND: "claude_code",
        CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH: process.execPath,
        CLAUDE_AGENT_MCP_STATE_DIR: "/tmp",
        CLAUDE_AGENT_MCP_CLAUDE_CODE_INCLUDE_MEDIATED_RESULTS_IN_CONTINUATION: "true",
        CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_CONTINUATION_WARNINGS: "2",
      },
      cwd: "/tmp",
    });
    if (!r.ok) throw new Error(r.problems.join("; "));
    return r.config.claudeCode;
  };
  const events: RunEvent[] = [
    { type: "user_input", turnIndex: 0, payload: { task: "t1" } },
    {
      type: "downstream_tool_catalog_resolved",
      turnIndex: 0,
      payload: {
        visible_tools: ["a__x", "a__y"],
        forwarded: 1,
        dropped: 1,
        dropped_names: ["a__y"],
        reason: "schema",
      },
    },
    { type: "workflow_normalization", turnIndex: 1, payload: { verdict: "pass" } },
    {
      type: "downstream_tool_catalog_resolved",
      turnIndex: 1,
      payload: {
        visible_tools: ["a__x"],
        forwarded: false,
        reason: "backend 'claude_code' does not support downstream tools",
      },
    },
    {
      type: "mediated_action_completed",
      turnIndex: 1,
      payload: { request_id: "r1", target_tool: "a__x", status: "completed", result_summary: "found 3 rows" },
    },
    {
      type: "mediated_action_completed",
      turnIndex: 1,
      payload: { request_id: "r2", target_tool: "a__x", status: "failed", failure_reason: "boom" },
    },
    {
      type: "mediated_workflow_step_completed",
      turnIndex: 1,
      payload: {
        workflow_id: "wf",
        step_index: 0,
        target_tool: "a__x",
        status: "completed",
        result_summary: "step ok",
      },
    },
  ];

  it("keeps upstream's section order and separator, and is deterministic", () => {
    const cc = cfg();
    const input = {
      cc,
      sessionId: "sess_x",
      sessionSummary: "summary",
      history,
      events,
      workingDirectory: "/w",
      profileName: "general",
    };
    const ctx = buildContext(input);
    const p = renderContinuationPrompt(ctx, { task: "next", inlineSystemPrompt: "SYS", toolsBlock: "" });
    expect(
      renderContinuationPrompt(buildContext(input), {
        task: "next",
        inlineSystemPrompt: "SYS",
        toolsBlock: "",
      }),
    ).toBe(p);
    const order = [
      "[System]",
      "[Continuation Session]",
      "[Session Summary]",
      "[Recent Interaction State]",
      "[Relevant Warnings]",
      "[Tool Forwarding Context]",
      "[Active Constraints]",
      "[Mediated Execution Context]",
      "[Current Request]",
      "[Instructions]",
    ];
    const idx = order.map((s) => p.indexOf(s));
    expect(idx.every((i) => i >= 0)).toBe(true);
    expect([...idx].sort((a, b) => a - b)).toEqual(idx);
    expect(p.split(SECTION_SEPARATOR)).toHaveLength(order.length);
    expect(SECTION_SEPARATOR).toBe(`\n${"─".repeat(60)}\n`);
    expect(p).toContain(`Reconstruction: ${RECONSTRUCTION_VERSION}`);
    expect(p).toContain("working_directory: /w\nprofile: general");
    expect(p).toContain("- Prior verification verdict: pass.");
    // the newest two warnings are kept (upstream kept the oldest)
    expect(p).not.toContain("tool(s) were not forwarded (a__y)");
    expect(p).toContain("Federation tools were not forwarded");
    expect(ctx.stats).toMatchObject({
      warnings_included: 2,
      warnings_omitted: 1,
      forwarding_events_included: 2,
    });
    // forwarding summary: `false` events do not claim tools as forwarded
    expect(p).toContain("Mode: disabled");
    expect(p).toContain("Forwarded: a__x");
    expect(p).toContain("Dropped: a__y");
    expect(p).toContain("- Tool a__x: found 3 rows");
    expect(p).not.toContain("boom");
    expect(p).toContain("- Workflow wf step 0: tool a__x: step ok");
    expect(p).toContain("runtime-mediated");
  });

  it("caps each entry at 2000 characters with [truncated]", () => {
    const ctx = buildContext({
      cc: cfg(),
      sessionId: "s",
      sessionSummary: null,
      history: [
        { role: "user", content: "u".repeat(2500) },
        { role: "assistant", content: "a" },
      ],
      events: [],
      workingDirectory: "/w",
      profileName: "general",
    });
    const p = renderContinuationPrompt(ctx, { task: "t", inlineSystemPrompt: null, toolsBlock: "" });
    expect(p).toContain(`${"u".repeat(2000)} [truncated]`);
    expect(p).not.toContain("[System]");
    expect(p).not.toContain("[Session Summary]");
  });

  it("falls back to events when no conversation is stored, pairing by turn", () => {
    const ctx = buildContext({
      cc: cfg(),
      sessionId: "s",
      sessionSummary: null,
      history: [],
      events: [
        { type: "user_input", turnIndex: 0, payload: { task: "first" } },
        { type: "user_input", turnIndex: 1, payload: { message: "second (failed turn)" } },
        { type: "user_input", turnIndex: 1, payload: { message: "third" } },
        { type: "provider_response_summary", turnIndex: 2, payload: { summary: "answer to third" } },
      ],
      workingDirectory: "/w",
      profileName: "general",
    });
    expect(ctx.turns).toEqual([
      { user: "first", assistant: "" },
      { user: "second (failed turn)", assistant: "" },
      { user: "third", assistant: "answer to third" },
    ]);
  });
});
