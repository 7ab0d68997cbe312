// Execution mediation end to end through the backend and the fake CLI: the protocol in the
// prompt, the nine gates in order, caps, workflows, malformed blocks, follow-up --resume turns,
// downstream failures, and upstream's event payloads.
import { afterEach, describe, expect, it } from "vitest";
import type { BackendError, RunEvent } from "../../src/backends/backend.js";
import { ClaudeCodeBackendError, type MediatedActionRecord } from "../../src/backends/claude-code/index.js";
import {
  findBlocks,
  parseActionBlock,
  parseWorkflowBlock,
} from "../../src/backends/claude-code/mediation.js";
import { actionBlock, fedTool, flagValue, type Harness, setup, workflowBlock } from "./harness.js";

let h: Harness;
afterEach(() => h?.cleanup());

const ON = { CLAUDE_AGENT_MCP_CLAUDE_CODE_ENABLE_EXECUTION_MEDIATION: "true" };

/** Runs one request whose first reply is `text`; later replies say "final answer". */
async function mediate(
  text: string,
  opts: {
    env?: Record<string, string>;
    tools?: ReturnType<typeof fedTool>[];
    sessionEvents?: RunEvent[];
    followUps?: string[];
  } = {},
) {
  h = setup({
    env: opts.env ?? ON,
    script: {
      steps: [
        { text, session_id: "cli-1" },
        ...(opts.followUps ?? ["final answer"]).map((t) => ({ text: t })),
      ],
    },
  });
  const tools = opts.tools ?? [fedTool("srv__lookup")];
  const r = await h.backend.run(h.request({ tools, sessionEvents: opts.sessionEvents ?? [] }));
  const med = r.resultExtras?.mediation as { actions: MediatedActionRecord[]; [k: string]: unknown };
  return { r, med, tools };
}

function decisions(med: { actions: MediatedActionRecord[] }): string[] {
  return med.actions.map((a) => a.policy_decision);
}

describe("protocol in the prompt", () => {
  it("teaches the tags and lists the visible tools when mediation is on", async () => {
    await mediate("no tools needed");
    const sys = flagValue(h.records()[0].argv, "--append-system-prompt") ?? "";
    expect(sys.startsWith("You are a careful agent.")).toBe(true);
    expect(sys).toContain("<mediated_action_request>");
    expect(sys).toContain('"mediation_version":"v0.8.0"');
    expect(sys).toContain("Tool: srv__lookup");
    expect(sys).toContain("  - q (string, required): query");
    expect(sys).not.toContain("<mediated_workflow_request>"); // max workflow steps 1 by default
    const catalog = h.events.find((e) => e.type === "downstream_tool_catalog_resolved");
    expect(catalog?.payload).toMatchObject({ visible_tools: ["srv__lookup"], forwarding_mode: "mediated" });
  });

  it("teaches workflows when more than one step is allowed", async () => {
    await mediate("x", { env: { ...ON, CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_MEDIATED_WORKFLOW_STEPS: "3" } });
    const sys = flagValue(h.records()[0].argv, "--append-system-prompt") ?? "";
    expect(sys).toContain("<mediated_workflow_request>");
    expect(sys).toContain("up to 3 related steps");
  });

  it("mediation off, forwarding off: tools are not offered, with a warning and an event", async () => {
    const { r } = await mediate("plain", { env: {} });
    const rec = h.records()[0];
    expect(flagValue(rec.argv, "--append-system-prompt")).toBe("You are a careful agent.");
    expect(r.warnings.some((w) => w.includes("api backend"))).toBe(true);
    const catalog = h.events.find((e) => e.type === "downstream_tool_catalog_resolved");
    expect(catalog?.payload).toEqual({
      visible_tools: ["srv__lookup"],
      forwarded: false,
      reason: "backend 'claude_code' does not support downstream tools",
    });
  });

  it("limited forwarding: [Available Tools] as text, incompatible tools dropped with a warning", async () => {
    const bad = fedTool("srv__complex");
    bad.inputSchema = { type: "object", properties: { a: { anyOf: [{ type: "string" }] } } };
    const notFine = fedTool("srv__notes");
    notFine.inputSchema = {
      type: "object",
      properties: { not: { type: "string", description: "cannot fail" } },
    };
    const { r } = await mediate("plain", {
      env: { CLAUDE_AGENT_MCP_CLAUDE_CODE_LIMITED_TOOL_FORWARDING: "true" },
      tools: [fedTool("srv__lookup"), bad, notFine],
    });
    const stdin = h.records()[0].stdin;
    expect(stdin).toContain("[Available Tools]");
    expect(stdin).toContain("not directly invocable");
    expect(stdin).toContain("Tool: srv__lookup");
    expect(stdin).toContain("Tool: srv__notes"); // a property named "not" is not the `not` keyword
    expect(stdin).not.toContain("Tool: srv__complex");
    expect(stdin).toContain("[Current Request]\nDo the thing.");
    expect(r.warnings).toEqual([expect.stringContaining("'srv__complex' not forwarded")]);
    const catalog = h.events.find((e) => e.type === "downstream_tool_catalog_resolved");
    expect(catalog?.payload).toEqual({
      visible_tools: ["srv__lookup", "srv__complex", "srv__notes"],
      forwarded: 2,
      dropped: 1,
      dropped_names: ["srv__complex"],
      forwarding_mode: "limited_text_injection",
    });
  });
});

describe("approved actions and the follow-up turn", () => {
  it("runs the tool, returns the result in a --resume turn, and lists the action", async () => {
    const { r, med, tools } = await mediate(`Let me look.\n${actionBlock({ arguments: { q: "rows" } })}`, {
      followUps: ["There are 3 rows."],
    });
    expect(tools[0].calls).toEqual([{ q: "rows" }]);
    const recs = h.records();
    expect(recs).toHaveLength(2);
    expect(flagValue(recs[1].argv, "--resume")).toBe("cli-1");
    expect(flagValue(recs[1].argv, "--max-turns")).toBe("9");
    expect(recs[1].stdin).toContain("[Mediated Action Results]");
    expect(recs[1].stdin).toContain("req_1 → srv__lookup: completed");
    expect(recs[1].stdin).toContain("result of srv__lookup");
    expect(r.outputText).toBe("There are 3 rows.");
    expect(r.turns).toBe(2);
    expect(r.usage.costUsd).toBeCloseTo(0.0246);
    expect(r.transcript.map((m) => m.role)).toEqual(["assistant", "user", "assistant"]);
    expect(med.actions).toEqual([
      {
        kind: "action",
        request_id: "req_1",
        workflow_id: null,
        step_index: null,
        action_type: "read",
        tool: "srv__lookup",
        status: "completed",
        policy_decision: "approved",
        reason: null,
        arguments_summary: 'q="rows"',
        result_summary: "result of srv__lookup",
        round: 1,
      },
    ]);
    expect(med.totals).toEqual({ requested: 1, approved: 1, rejected: 0, completed: 1, failed: 0 });
    expect(med.follow_up_turns).toBe(1);
    const medEvents = h.events.filter((e) => e.type.startsWith("mediated_"));
    expect(medEvents.map((e) => e.type)).toEqual([
      "mediated_action_requested",
      "mediated_action_approved",
      "mediated_action_completed",
    ]);
    expect(Object.keys(medEvents[0].payload).sort()).toEqual(
      ["action_type", "justification", "mediation_version", "request_id", "target_tool"].sort(),
    );
    expect(medEvents[1].payload).toEqual({
      request_id: "req_1",
      target_tool: "srv__lookup",
      action_type: "read",
      policy_decision: "approved",
    });
    expect(medEvents[2].payload).toMatchObject({
      request_id: "req_1",
      target_tool: "srv__lookup",
      status: "completed",
      arguments_summary: 'q="rows"',
      result_summary: "result of srv__lookup",
      failure_reason: null,
      policy_decision: "approved",
    });
    expect(medEvents[0].turnIndex).toBe(1);
  });

  it("the per-turn cap spans the follow-up rounds of one request", async () => {
    const { r, med, tools } = await mediate(actionBlock({ request_id: "a" }), {
      followUps: [`again ${actionBlock({ request_id: "b" })}`, "never reached"],
    });
    expect(tools[0].calls).toHaveLength(1);
    expect(h.records()).toHaveLength(2);
    expect(decisions(med)).toEqual(["approved", "rejected:per_turn_action_limit_exceeded"]);
    expect(med.actions[1].round).toBe(2);
    expect(r.outputText).toContain("again");
    expect(r.warnings.some((w) => w.includes("'b'") && w.includes("per_turn_action_limit_exceeded"))).toBe(
      true,
    );
  });

  it("several rounds within the cap each get a follow-up", async () => {
    const { r, tools, med } = await mediate(actionBlock({ request_id: "a" }), {
      env: { ...ON, CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_MEDIATED_ACTIONS_PER_TURN: "3" },
      followUps: [actionBlock({ request_id: "b" }), "done after two"],
    });
    expect(tools[0].calls).toHaveLength(2);
    expect(h.records()).toHaveLength(3);
    expect(r.outputText).toBe("done after two");
    expect(med.follow_up_turns).toBe(2);
  });
});

describe("the nine gates, in order", () => {
  it("1 mediation disabled: parsed and rejected visibly, nothing runs", async () => {
    const { r, med, tools } = await mediate(actionBlock({}), { env: {} });
    expect(decisions(med)).toEqual(["rejected:mediation_disabled"]);
    expect(tools[0].calls).toHaveLength(0);
    expect(h.records()).toHaveLength(1);
    expect(r.warnings).toContain(
      "Mediated action 'req_1' for tool 'srv__lookup' rejected — execution mediation is disabled (policy: rejected:mediation_disabled)",
    );
    const rej = h.events.find((e) => e.type === "mediated_action_rejected");
    expect(rej?.payload).toMatchObject({
      request_id: "req_1",
      target_tool: "srv__lookup",
      policy_decision: "rejected:mediation_disabled",
      rejection_reason: "feature_disabled",
    });
  });

  it("1 before 2: disabled wins over a bad version", async () => {
    const { med } = await mediate(actionBlock({ mediation_version: "v0.7.0" }), { env: {} });
    expect(decisions(med)).toEqual(["rejected:mediation_disabled"]);
  });

  it("2 unsupported version (v0.9.0 is accepted for single actions)", async () => {
    const { med } = await mediate(
      `${actionBlock({ request_id: "a", mediation_version: "v0.7.0" })}\n${actionBlock({ request_id: "b", mediation_version: "v0.9.0" })}`,
    );
    expect(decisions(med)).toEqual(["rejected:unsupported_mediation_version", "approved"]);
  });

  it("3 action type not allowed (unknown type, and a type outside the configured list)", async () => {
    const { med } = await mediate(
      `${actionBlock({ request_id: "a", action_type: "write" })}\n${actionBlock({ request_id: "b", action_type: "read" })}`,
      { env: { ...ON, CLAUDE_AGENT_MCP_CLAUDE_CODE_ALLOWED_MEDIATED_ACTION_TYPES: "lookup" } },
    );
    expect(decisions(med)).toEqual(["rejected:action_type_not_allowed", "rejected:action_type_not_allowed"]);
  });

  it("4 per-turn limit", async () => {
    const { med, tools } = await mediate(
      `${actionBlock({ request_id: "a" })}\n${actionBlock({ request_id: "b" })}\n${actionBlock({ request_id: "c" })}`,
      { env: { ...ON, CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_MEDIATED_ACTIONS_PER_TURN: "2" } },
    );
    expect(decisions(med)).toEqual(["approved", "approved", "rejected:per_turn_action_limit_exceeded"]);
    expect(tools[0].calls).toHaveLength(2);
  });

  it("5 session approval limit, counted from the session's earlier approvals", async () => {
    const earlier: RunEvent[] = [
      { type: "mediated_action_approved", turnIndex: 1, payload: {} },
      { type: "mediated_workflow_step_approved", turnIndex: 2, payload: {} },
      { type: "mediated_action_rejected", turnIndex: 2, payload: {} },
    ];
    const { med } = await mediate(
      `${actionBlock({ request_id: "a" })}\n${actionBlock({ request_id: "b" })}`,
      {
        env: {
          ...ON,
          CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_SESSION_MEDIATED_APPROVALS: "3",
          CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_MEDIATED_ACTIONS_PER_TURN: "5",
        },
        sessionEvents: earlier,
      },
    );
    expect(decisions(med)).toEqual(["approved", "rejected:session_approval_limit_exceeded"]);
  });

  it("6 deny list (checked before the allow list) and 7 allow list", async () => {
    const tools = [fedTool("srv__lookup"), fedTool("srv__other"), fedTool("srv__both")];
    const { med } = await mediate(
      [
        actionBlock({ request_id: "a", target_tool: "srv__both" }),
        actionBlock({ request_id: "b", target_tool: "srv__other" }),
        actionBlock({ request_id: "c", target_tool: "srv__lookup" }),
      ].join("\n"),
      {
        tools,
        env: {
          ...ON,
          CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_MEDIATED_ACTIONS_PER_TURN: "5",
          CLAUDE_AGENT_MCP_CLAUDE_CODE_DENIED_MEDIATED_TOOLS: "srv__both",
          CLAUDE_AGENT_MCP_CLAUDE_CODE_ALLOWED_MEDIATED_TOOLS: "srv__both,srv__lookup",
        },
      },
    );
    expect(decisions(med)).toEqual(["rejected:tool_not_allowed", "rejected:tool_not_allowed", "approved"]);
  });

  it("6 before 8: a denied tool is tool_not_allowed even without federation", async () => {
    const { med } = await mediate(actionBlock({}), {
      tools: [],
      env: { ...ON, CLAUDE_AGENT_MCP_CLAUDE_CODE_DENIED_MEDIATED_TOOLS: "srv__lookup" },
    });
    expect(decisions(med)).toEqual(["rejected:tool_not_allowed"]);
  });

  it("8 federation inactive: no federation tools means every request is rejected", async () => {
    const workspace = { ...fedTool("srv__lookup"), source: "workspace" };
    const { med } = await mediate(actionBlock({}), { tools: [workspace] });
    expect(decisions(med)).toEqual(["rejected:federation_inactive"]);
    expect(med.federation_active).toBe(false);
    expect(h.events.find((e) => e.type === "mediated_action_rejected")?.payload.rejection_reason).toBe(
      "federation_inactive",
    );
  });

  it("9 tool not visible to the profile", async () => {
    const { med } = await mediate(actionBlock({ target_tool: "srv__hidden" }));
    expect(decisions(med)).toEqual(["rejected:tool_not_visible"]);
  });
});

describe("workflows", () => {
  const WF = {
    ...ON,
    CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_MEDIATED_WORKFLOW_STEPS: "3",
    CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_MEDIATED_ACTIONS_PER_TURN: "5",
  };
  const steps = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      step_index: i,
      action_type: "lookup",
      target_tool: "srv__lookup",
      arguments: { q: `s${i}` },
      justification: `step ${i}`,
    }));

  it("approves and runs each step, with step events and the aggregate", async () => {
    const { med, tools } = await mediate(workflowBlock({ steps: steps(2) }), { env: WF });
    expect(tools[0].calls).toEqual([{ q: "s0" }, { q: "s1" }]);
    expect(med.actions.map((a) => [a.kind, a.request_id, a.status])).toEqual([
      ["workflow_step", "wf_step_0", "completed"],
      ["workflow_step", "wf_step_1", "completed"],
    ]);
    expect(med.workflows).toEqual([
      {
        workflow_id: "wf_1",
        total_steps: 2,
        approved_steps: 2,
        rejected_steps: 0,
        completed_steps: 2,
        failed_steps: 0,
      },
    ]);
    expect(h.events.filter((e) => e.type.startsWith("mediated_")).map((e) => e.type)).toEqual([
      "mediated_workflow_requested",
      "mediated_workflow_step_requested",
      "mediated_workflow_step_approved",
      "mediated_workflow_step_completed",
      "mediated_workflow_step_requested",
      "mediated_workflow_step_approved",
      "mediated_workflow_step_completed",
      "mediated_workflow_completed",
    ]);
    expect(h.events.find((e) => e.type === "mediated_workflow_requested")?.payload).toEqual({
      workflow_id: "wf_1",
      step_count: 2,
      mediation_version: "v0.9.0",
      justification: "several steps",
    });
  });

  it("too many steps: every step rejected, no step_requested events", async () => {
    const { med, tools } = await mediate(workflowBlock({ steps: steps(4) }), { env: WF });
    expect(decisions(med)).toEqual(Array(4).fill("rejected:workflow_step_limit_exceeded"));
    expect(tools[0].calls).toHaveLength(0);
    expect(h.events.some((e) => e.type === "mediated_workflow_step_requested")).toBe(false);
    expect(h.events.find((e) => e.type === "mediated_workflow_completed")?.payload).toMatchObject({
      approved_steps: 0,
      rejected_steps: 4,
    });
    expect(h.events.find((e) => e.type === "mediated_workflow_step_rejected")?.payload).toMatchObject({
      rejection_reason: "workflow_step_limit_exceeded",
    });
  });

  it("a workflow must be v0.9.0", async () => {
    const { med } = await mediate(workflowBlock({ mediation_version: "v0.8.0" }), { env: WF });
    expect(decisions(med)).toEqual(["rejected:unsupported_mediation_version"]);
  });

  it("the per-turn cap covers single actions and workflow steps together", async () => {
    const text = `${workflowBlock({ steps: steps(3) })}\n${actionBlock({ request_id: "single" })}`;
    const { med } = await mediate(text, {
      env: { ...WF, CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_MEDIATED_ACTIONS_PER_TURN: "2" },
    });
    // single actions first, whatever their position in the text
    expect(med.actions.map((a) => `${a.request_id}:${a.policy_decision}`)).toEqual([
      "single:approved",
      "wf_step_0:approved",
      "wf_step_1:rejected:per_turn_action_limit_exceeded",
      "wf_step_2:rejected:per_turn_action_limit_exceeded",
    ]);
  });
});

describe("malformed requests never crash the run", () => {
  it("invalid JSON, wrong types and bad arguments are rejected:malformed_request with a reason", async () => {
    const text = [
      "<mediated_action_request>{not json}</mediated_action_request>",
      actionBlock({ request_id: "arr", arguments: [1, 2] }),
      '<mediated_action_request>{"mediation_version":"v0.8.0","request_id":"m"}</mediated_action_request>',
      actionBlock({ request_id: "ok" }),
    ].join("\n");
    const { r, med } = await mediate(text);
    expect(decisions(med)).toEqual([
      "rejected:malformed_request",
      "rejected:malformed_request",
      "rejected:malformed_request",
      "approved",
    ]);
    expect(med.actions[0].reason).toContain("invalid JSON");
    expect(med.actions[0].request_id).toBe("malformed_1");
    expect(med.actions[1].reason).toContain("arguments must be a JSON object");
    expect(med.actions[2].reason).toContain(
      "missing required key(s): action_type, target_tool, justification",
    );
    expect(r.outputText).toBe("final answer");
    const rejected = h.events.filter((e) => e.type === "mediated_action_rejected");
    expect(rejected).toHaveLength(3);
    expect(rejected[0].payload.rejection_reason).toBe("malformed_request");
  });

  it("a bad step_index or step drops the whole workflow with a reason (upstream crashed here)", async () => {
    const text = workflowBlock({
      steps: [
        { step_index: 0, action_type: "read", target_tool: "srv__lookup", justification: "x" },
        { step_index: "first", action_type: "read", target_tool: "srv__lookup", justification: "y" },
      ],
    });
    const { med, r } = await mediate(text, {
      env: { ...ON, CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_MEDIATED_WORKFLOW_STEPS: "3" },
    });
    expect(decisions(med)).toEqual(["rejected:malformed_request", "rejected:malformed_request"]);
    expect(med.actions[0].reason).toContain("step 1: step_index must be a non-negative integer");
    expect(h.records()).toHaveLength(1); // nothing ran, so no follow-up turn
    expect(r.outputText).toBe(text);
    expect(h.events.find((e) => e.type === "mediated_workflow_completed")?.payload).toMatchObject({
      workflow_id: "wf_1",
      rejected_steps: 2,
    });
  });

  it("a block without a closing brace does not swallow the next valid block", async () => {
    const text = `<mediated_action_request>{"oops": 1</mediated_action_request>\n${actionBlock({ request_id: "good" })}`;
    const { med } = await mediate(text);
    expect(decisions(med)).toEqual(["rejected:malformed_request", "approved"]);
  });

  it("blocks inside code fences are quoted text, ignored with a warning", async () => {
    const text = ["Example:", "```", actionBlock({ request_id: "quoted" }), "```", "No request."].join("\n");
    const { r, med, tools } = await mediate(text);
    expect(med.actions).toEqual([]);
    expect(tools[0].calls).toHaveLength(0);
    expect(r.warnings.some((w) => w.includes("code fences"))).toBe(true);
  });

  it("parsers return reasons instead of throwing", () => {
    expect(parseActionBlock("[]")).toMatchObject({ ok: false, reason: "block is not a JSON object" });
    expect(parseWorkflowBlock('{"mediation_version":"v0.9.0","workflow_id":"w","steps":[]}')).toMatchObject({
      ok: false,
      reason: "workflow has no steps",
    });
    expect(parseWorkflowBlock('{"mediation_version":"v0.9.0","workflow_id":"w","steps":{}}')).toMatchObject({
      ok: false,
      reason: "steps must be a JSON array",
    });
    expect(
      findBlocks("<mediated_action_request> {} </mediated_action_request>", "mediated_action_request").blocks,
    ).toEqual([" {} "]);
  });
});

describe("downstream failures fail the run", () => {
  it("an isError result is failed and the run throws with the mediation list attached", async () => {
    const tool = fedTool("srv__lookup", () => ({ content: "upstream exploded", isError: true }));
    h = setup({
      env: ON,
      script: { steps: [{ text: actionBlock({}), session_id: "cli-1" }, { text: "never" }] },
    });
    const err = (await h.backend.run(h.request({ tools: [tool] })).catch((e) => e)) as BackendError;
    expect(err).toBeInstanceOf(ClaudeCodeBackendError);
    expect(err.code).toBe("downstream_invocation_error");
    expect(err.failure.failure_code).toBe("claude_code_mediated_action_failed");
    expect(err.message).toContain("upstream exploded");
    const extras = (err as ClaudeCodeBackendError).resultExtras as {
      mediation: { actions: MediatedActionRecord[] };
    };
    expect(extras.mediation.actions[0]).toMatchObject({
      status: "failed",
      policy_decision: "completed_with_execution_failure",
    });
    expect(err.transcript).toHaveLength(1);
    expect(err.usage?.costUsd).toBeCloseTo(0.0123);
    expect(h.records()).toHaveLength(1); // no follow-up after a failure
    const completed = h.events.find((e) => e.type === "mediated_action_completed");
    expect(completed?.payload).toMatchObject({
      status: "failed",
      policy_decision: "completed_with_execution_failure",
    });
  });

  it("a throwing tool is failed the same way", async () => {
    const tool = fedTool("srv__lookup", () => {
      throw new Error("connection reset");
    });
    h = setup({ env: ON, script: { steps: [{ text: actionBlock({}), session_id: "cli-1" }] } });
    const err = (await h.backend.run(h.request({ tools: [tool] })).catch((e) => e)) as BackendError;
    expect(err.failure.failure_code).toBe("claude_code_mediated_action_failed");
    expect(err.message).toContain("connection reset");
  });
});

describe("verify_task", () => {
  it("ignores federation and mediation blocks", async () => {
    h = setup({ env: ON, script: { steps: [{ text: `VERDICT: pass ${actionBlock({})}` }] } });
    const tool = fedTool("srv__lookup");
    const r = await h.backend.run(
      h.request({ tools: [tool], workflow: "verify_task", readOnly: true, profileName: "verification" }),
    );
    expect(tool.calls).toHaveLength(0);
    expect(r.resultExtras?.mediation).toBeUndefined();
    expect(h.events).toEqual([]);
    expect(flagValue(h.records()[0].argv, "--append-system-prompt")).toBe("You are a careful agent.");
  });
});
