// Execution mediation: the model asks for federation tool calls with upstream's text protocol
// (<mediated_action_request> / <mediated_workflow_request> blocks), the runtime checks each
// request against nine gates in upstream's order, runs the approved ones, and reports every
// action. Fixed against upstream (CONTRACT §8, W10–W15): the protocol and the tools are taught
// in the prompt; blocks inside code fences are quoted examples and ignored; a malformed block is
// an explicit `rejected:malformed_request`, never a crash; one per-request counter takes every
// approval; a downstream error or `isError` result is `failed`, not `completed`.
import type { ClaudeCodeConfig } from "../../config.js";
import { federationAuditEvents, isFederationAudit } from "../../federation/audit.js";
import { type AgentTool, RunAbortedError, type RunEvent } from "../backend.js";
import { describeTool } from "./prompt.js";

export const SINGLE_VERSIONS = ["v0.8.0", "v0.9.0"];
export const WORKFLOW_VERSION = "v0.9.0";
const ACTION_TYPES = ["read", "lookup", "inspect"];
const RESULT_SUMMARY_CHARS = 500;
const EVENT_TEXT_CHARS = 200;
/** Size of one tool result handed back to the model in the follow-up turn. */
const FEEDBACK_RESULT_CHARS = 20_000;

export type PolicyDecision =
  | "approved"
  | "rejected:mediation_disabled"
  | "rejected:unsupported_mediation_version"
  | "rejected:action_type_not_allowed"
  | "rejected:per_turn_action_limit_exceeded"
  | "rejected:session_approval_limit_exceeded"
  | "rejected:tool_not_allowed"
  | "rejected:federation_inactive"
  | "rejected:tool_not_visible"
  | "rejected:workflow_step_limit_exceeded"
  | "rejected:malformed_request"
  | "completed_with_execution_failure";

const REJECTION_REASON: Record<string, string> = {
  "rejected:mediation_disabled": "feature_disabled",
  "rejected:unsupported_mediation_version": "invalid_version",
  "rejected:action_type_not_allowed": "unsupported_action_type",
  "rejected:per_turn_action_limit_exceeded": "per_turn_limit_exceeded",
  "rejected:session_approval_limit_exceeded": "session_approval_limit_exceeded",
  "rejected:tool_not_allowed": "tool_not_allowed",
  "rejected:federation_inactive": "federation_inactive",
  "rejected:tool_not_visible": "tool_not_visible",
  "rejected:workflow_step_limit_exceeded": "workflow_step_limit_exceeded",
  "rejected:malformed_request": "malformed_request",
};

const DECISION_TEXT: Record<string, string> = {
  "rejected:mediation_disabled": "execution mediation is disabled",
  "rejected:unsupported_mediation_version": `unsupported mediation_version (accepted: ${SINGLE_VERSIONS.join(", ")}; workflows: ${WORKFLOW_VERSION})`,
  "rejected:action_type_not_allowed": "action type is not allowed",
  "rejected:per_turn_action_limit_exceeded": "per-turn mediated action limit reached",
  "rejected:tool_not_visible": "tool is not visible to this profile",
  "rejected:federation_inactive": "federation is not active (no downstream tools are available)",
  "rejected:tool_not_allowed": "tool is denied or not on the mediated-tool allowlist",
  "rejected:workflow_step_limit_exceeded": "workflow has more steps than allowed",
  "rejected:session_approval_limit_exceeded": "session mediated-approval limit reached",
  "rejected:malformed_request": "malformed request",
};

export function rejectionReason(code: string): string {
  return REJECTION_REASON[code] ?? "malformed_request";
}

function decisionText(code: string): string {
  return DECISION_TEXT[code] ?? `policy decision: ${code}`;
}

/** One entry of `result.mediation.actions`. */
/** The identity and arguments part of a record, shared by its rejected and executed forms. */
type RecordBase = Omit<
  MediatedActionRecord,
  "status" | "policy_decision" | "reason" | "result_summary" | "round"
>;

interface Execution {
  status: "completed" | "failed";
  summary: string;
  content: string;
  failureReason: string | null;
  decision: string;
}

export interface MediatedActionRecord {
  kind: "action" | "workflow_step";
  request_id: string;
  workflow_id: string | null;
  step_index: number | null;
  action_type: string | null;
  tool: string | null;
  status: "completed" | "failed" | "rejected";
  policy_decision: string;
  reason: string | null;
  arguments_summary: string;
  result_summary: string;
  round: number;
}

export interface WorkflowAggregate {
  workflow_id: string;
  total_steps: number;
  approved_steps: number;
  rejected_steps: number;
  completed_steps: number;
  failed_steps: number;
}

interface ActionRequest {
  mediation_version: string;
  request_id: string;
  action_type: string;
  target_tool: string;
  arguments: Record<string, unknown>;
  justification: string;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string; partial: Record<string, unknown> };

interface WorkflowRequest {
  mediation_version: string;
  workflow_id: string;
  justification: string;
  steps: (Omit<ActionRequest, "mediation_version" | "request_id"> & { step_index: number })[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n) : s;
}

/** Character ranges of fenced code (``` or ~~~) in the reply: quoted text, not requests. */
function fencedRanges(text: string): [number, number][] {
  const ranges: [number, number][] = [];
  const re = /^[ \t]*(```|~~~)/gm;
  let open: number | null = null;
  let fence = "";
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (open === null) {
      open = m.index;
      fence = m[1];
    } else if (m[1] === fence) {
      ranges.push([open, m.index + m[0].length]);
      open = null;
    }
  }
  if (open !== null) ranges.push([open, text.length]);
  return ranges;
}

/** Contents of `<tag>…</tag>` blocks outside code fences; each block ends at its own closing tag. */
export function findBlocks(text: string, tag: string): { blocks: string[]; fenced: number } {
  const fences = fencedRanges(text);
  const re = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g");
  const blocks: string[] = [];
  let fenced = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const at = m.index;
    if (fences.some(([a, b]) => at >= a && at < b)) fenced++;
    else blocks.push(m[1]);
  }
  return { blocks, fenced };
}

function parseJsonObject(raw: string): Parsed<Record<string, unknown>> {
  let v: unknown;
  try {
    v = JSON.parse(raw.trim());
  } catch (err) {
    return { ok: false, reason: `invalid JSON (${(err as Error).message})`, partial: {} };
  }
  if (!isRecord(v)) return { ok: false, reason: "block is not a JSON object", partial: {} };
  return { ok: true, value: v };
}

function missing(obj: Record<string, unknown>, keys: string[]): string[] {
  return keys.filter((k) => !(k in obj));
}

function parseArguments(v: unknown): Record<string, unknown> | null {
  if (v === undefined || v === null || v === false || v === "" || v === 0) return {};
  if (Array.isArray(v) && v.length === 0) return {};
  return isRecord(v) ? v : null;
}

function partialOf(o: Record<string, unknown>): Record<string, unknown> {
  return {
    request_id:
      typeof o.request_id === "string" || typeof o.request_id === "number" ? String(o.request_id) : null,
    target_tool: typeof o.target_tool === "string" ? o.target_tool : null,
    action_type: typeof o.action_type === "string" ? o.action_type : null,
    workflow_id: typeof o.workflow_id === "string" ? o.workflow_id : null,
    mediation_version: typeof o.mediation_version === "string" ? o.mediation_version : null,
  };
}

export function parseActionBlock(raw: string): Parsed<ActionRequest> {
  const j = parseJsonObject(raw);
  if (!j.ok) return j;
  const o = j.value;
  const partial = partialOf(o);
  const miss = missing(o, ["mediation_version", "request_id", "action_type", "target_tool", "justification"]);
  if (miss.length) return { ok: false, reason: `missing required key(s): ${miss.join(", ")}`, partial };
  for (const k of ["mediation_version", "action_type", "target_tool"]) {
    if (typeof o[k] !== "string") return { ok: false, reason: `${k} must be a string`, partial };
  }
  if (typeof o.request_id !== "string" && typeof o.request_id !== "number") {
    return { ok: false, reason: "request_id must be a string", partial };
  }
  const args = parseArguments(o.arguments);
  if (!args) return { ok: false, reason: "arguments must be a JSON object", partial };
  return {
    ok: true,
    value: {
      mediation_version: o.mediation_version as string,
      request_id: String(o.request_id),
      action_type: o.action_type as string,
      target_tool: o.target_tool as string,
      arguments: args,
      justification: typeof o.justification === "string" ? o.justification : JSON.stringify(o.justification),
    },
  };
}

export function parseWorkflowBlock(raw: string): Parsed<WorkflowRequest> & { stepCount?: number } {
  const j = parseJsonObject(raw);
  if (!j.ok) return j;
  const o = j.value;
  const partial = partialOf(o);
  const miss = missing(o, ["mediation_version", "workflow_id", "steps"]);
  if (miss.length) return { ok: false, reason: `missing required key(s): ${miss.join(", ")}`, partial };
  if (typeof o.mediation_version !== "string")
    return { ok: false, reason: "mediation_version must be a string", partial };
  if (typeof o.workflow_id !== "string" && typeof o.workflow_id !== "number") {
    return { ok: false, reason: "workflow_id must be a string", partial };
  }
  partial.workflow_id = String(o.workflow_id);
  if (!Array.isArray(o.steps)) return { ok: false, reason: "steps must be a JSON array", partial };
  partial.step_count = o.steps.length;
  if (!o.steps.length) return { ok: false, reason: "workflow has no steps", partial };
  const steps: WorkflowRequest["steps"] = [];
  for (const [i, s] of o.steps.entries()) {
    const bad = (why: string) => ({ ok: false as const, reason: `step ${i}: ${why}`, partial });
    if (!isRecord(s)) return bad("not a JSON object");
    const m = missing(s, ["action_type", "target_tool", "justification"]);
    if (m.length) return bad(`missing required key(s): ${m.join(", ")}`);
    if (typeof s.action_type !== "string") return bad("action_type must be a string");
    if (typeof s.target_tool !== "string") return bad("target_tool must be a string");
    let idx = i;
    if (s.step_index !== undefined && s.step_index !== null) {
      const n =
        typeof s.step_index === "string" && /^\d+$/.test(s.step_index) ? Number(s.step_index) : s.step_index;
      if (typeof n !== "number" || !Number.isInteger(n) || n < 0)
        return bad("step_index must be a non-negative integer");
      idx = n;
    }
    const args = parseArguments(s.arguments);
    if (!args) return bad("arguments must be a JSON object");
    steps.push({
      step_index: idx,
      action_type: s.action_type,
      target_tool: s.target_tool,
      arguments: args,
      justification: typeof s.justification === "string" ? s.justification : JSON.stringify(s.justification),
    });
  }
  return {
    ok: true,
    value: {
      mediation_version: o.mediation_version,
      workflow_id: String(o.workflow_id),
      justification: typeof o.justification === "string" ? o.justification : "",
      steps,
    },
  };
}

/** `k=<json>` pairs, each value cut to 30 characters (upstream used Python repr). */
export function argumentsSummary(args: Record<string, unknown>): string {
  const entries = Object.entries(args);
  if (!entries.length) return "(no arguments)";
  return entries
    .map(([k, v]) => {
      let r: string;
      try {
        r = JSON.stringify(v) ?? String(v);
      } catch {
        r = String(v);
      }
      return `${k}=${r.length > 30 ? `${r.slice(0, 30)}…` : r}`;
    })
    .join(", ");
}

/** The protocol taught to the model when mediation is on and downstream tools exist. */
export function protocolPrompt(cc: ClaudeCodeConfig, tools: AgentTool[]): string {
  const types = cc.allowedMediatedActionTypes.length ? cc.allowedMediatedActionTypes : ACTION_TYPES;
  const lines = [
    "[Mediated Tool Access]",
    "This session can use the external tools listed below through runtime mediation. They are not native tools:",
    "to use one, write a request block in your reply (plain text, never inside a code fence), exactly in this form:",
    "",
    "<mediated_action_request>",
    '{"mediation_version":"v0.8.0","request_id":"req_1","action_type":"read","target_tool":"<tool name>","arguments":{},"justification":"<why you need it>"}',
    "</mediated_action_request>",
  ];
  if (cc.maxMediatedWorkflowSteps >= 2) {
    lines.push(
      "",
      `For up to ${cc.maxMediatedWorkflowSteps} related steps you may send one bounded workflow instead:`,
      "",
      "<mediated_workflow_request>",
      '{"mediation_version":"v0.9.0","workflow_id":"wf_1","justification":"<why>","steps":[{"step_index":0,"action_type":"read","target_tool":"<tool name>","arguments":{},"justification":"<why>"}]}',
      "</mediated_workflow_request>",
    );
  }
  lines.push(
    "",
    "Rules:",
    `- action_type is one of: ${types.join(", ")}. Use a unique request_id per request; arguments must match the tool's parameters.`,
    `- At most ${cc.maxMediatedActionsPerTurn} action(s) per request are approved; further ones are rejected.`,
    "- The runtime checks each request against its policy, runs the approved ones, and sends you the results in the",
    "  next message. Then finish your answer using them. Never invent tool results.",
    "- If you do not need a tool, answer directly without any request block.",
    "",
    "Tools:",
  );
  for (const t of tools) lines.push("", ...describeTool(t));
  return lines.join("\n");
}

export interface MediationContext {
  cc: ClaudeCodeConfig;
  /** Federation tools visible to this run's profile (empty: federation inactive). */
  tools: AgentTool[];
  profileName: string;
  sessionId: string;
  /** Approvals recorded in earlier requests of the session. */
  sessionApprovedBefore: number;
  signal: AbortSignal;
  emit(type: string, turnIndex: number, payload: Record<string, unknown>): void;
}

export interface RoundOutcome {
  records: MediatedActionRecord[];
  /** Actions that ran (completed or failed) this round. */
  executed: number;
  failed: number;
  warnings: string[];
  /** Full tool outputs of this round, for the follow-up message. */
  feedback: { record: MediatedActionRecord; content: string }[];
  blocksFound: number;
}

/** Counts approvals already in the session's events (both single actions and workflow steps). */
export function countSessionApprovals(events: RunEvent[]): number {
  return events.filter(
    (e) => e.type === "mediated_action_approved" || e.type === "mediated_workflow_step_approved",
  ).length;
}

/** Mediation for one request: stateful across the follow-up rounds of that request. */
export class MediationRun {
  /** Every approval of this request, single actions and workflow steps alike (the per-turn cap). */
  approvedThisRequest = 0;
  readonly records: MediatedActionRecord[] = [];
  readonly workflows: WorkflowAggregate[] = [];
  private malformedCount = 0;

  constructor(private readonly ctx: MediationContext) {}

  get federationActive(): boolean {
    return this.ctx.tools.length > 0;
  }

  /** The nine gates, in upstream's order; the first failure wins. */
  validate(req: { mediation_version: string; action_type: string; target_tool: string }): PolicyDecision {
    const cc = this.ctx.cc;
    if (!cc.enableExecutionMediation) return "rejected:mediation_disabled";
    if (!SINGLE_VERSIONS.includes(req.mediation_version)) return "rejected:unsupported_mediation_version";
    const types = cc.allowedMediatedActionTypes.length ? cc.allowedMediatedActionTypes : ACTION_TYPES;
    if (!types.includes(req.action_type)) return "rejected:action_type_not_allowed";
    if (this.approvedThisRequest >= cc.maxMediatedActionsPerTurn)
      return "rejected:per_turn_action_limit_exceeded";
    if (this.ctx.sessionApprovedBefore + this.approvedThisRequest >= cc.maxSessionMediatedApprovals) {
      return "rejected:session_approval_limit_exceeded";
    }
    if (cc.deniedMediatedTools.includes(req.target_tool)) return "rejected:tool_not_allowed";
    if (cc.allowedMediatedTools.length && !cc.allowedMediatedTools.includes(req.target_tool)) {
      return "rejected:tool_not_allowed";
    }
    if (!this.federationActive) return "rejected:federation_inactive";
    if (!["general", "verification"].includes(this.ctx.profileName)) return "rejected:tool_not_visible";
    if (!this.ctx.tools.some((t) => t.name === req.target_tool)) return "rejected:tool_not_visible";
    return "approved";
  }

  /** Parses one model reply and processes every request in it: single actions first, then workflows. */
  async processReply(text: string, turnIndex: number, round: number): Promise<RoundOutcome> {
    const out: RoundOutcome = {
      records: [],
      executed: 0,
      failed: 0,
      warnings: [],
      feedback: [],
      blocksFound: 0,
    };
    const single = findBlocks(text, "mediated_action_request");
    const workflows = findBlocks(text, "mediated_workflow_request");
    const fenced = single.fenced + workflows.fenced;
    if (fenced) {
      out.warnings.push(
        `${fenced} mediation request block(s) inside code fences were treated as quoted text and ignored`,
      );
    }
    out.blocksFound = single.blocks.length + workflows.blocks.length;
    for (const raw of single.blocks) await this.processAction(raw, turnIndex, round, out);
    for (const raw of workflows.blocks) await this.processWorkflow(raw, turnIndex, round, out);
    for (const r of out.records) {
      if (r.status === "rejected") {
        out.warnings.push(
          `Mediated action '${r.request_id}' for tool '${r.tool ?? "(unknown)"}' rejected — ${r.reason} (policy: ${r.policy_decision})`,
        );
      }
    }
    this.records.push(...out.records);
    return out;
  }

  private record(
    out: RoundOutcome,
    r: Omit<MediatedActionRecord, "round">,
    round: number,
    content?: string,
  ): MediatedActionRecord {
    const rec = { ...r, round };
    out.records.push(rec);
    if (rec.status !== "rejected") {
      out.executed++;
      if (rec.status === "failed") out.failed++;
      out.feedback.push({ record: rec, content: content ?? "" });
    }
    return rec;
  }

  /** A gate rejected an action or workflow step: recorded, nothing executed. */
  private recordRejection(out: RoundOutcome, base: RecordBase, decision: string, round: number): void {
    this.record(
      out,
      {
        ...base,
        status: "rejected",
        policy_decision: decision,
        reason: decisionText(decision),
        result_summary: "",
      },
      round,
    );
  }

  /** An approved action or step ran: recorded with its outcome; its content goes back to the model. */
  private recordExecution(out: RoundOutcome, base: RecordBase, ex: Execution, round: number): void {
    this.record(
      out,
      {
        ...base,
        status: ex.status,
        policy_decision: ex.decision,
        reason: ex.failureReason,
        result_summary: ex.summary,
      },
      round,
      ex.content,
    );
  }

  private async processAction(
    raw: string,
    turnIndex: number,
    round: number,
    out: RoundOutcome,
  ): Promise<void> {
    const emit = this.ctx.emit;
    const parsed = parseActionBlock(raw);
    if (!parsed.ok) {
      const requestId = (parsed.partial.request_id as string | null) ?? `malformed_${++this.malformedCount}`;
      const reason = `${decisionText("rejected:malformed_request")}: ${parsed.reason}`;
      emit("mediated_action_rejected", turnIndex, {
        request_id: requestId,
        target_tool: parsed.partial.target_tool ?? null,
        policy_decision: "rejected:malformed_request",
        failure_reason: reason,
        rejection_reason: "malformed_request",
      });
      this.record(
        out,
        {
          kind: "action",
          request_id: requestId,
          workflow_id: null,
          step_index: null,
          action_type: (parsed.partial.action_type as string | null) ?? null,
          tool: (parsed.partial.target_tool as string | null) ?? null,
          status: "rejected",
          policy_decision: "rejected:malformed_request",
          reason,
          arguments_summary: "",
          result_summary: "",
        },
        round,
      );
      return;
    }
    const req = parsed.value;
    emit("mediated_action_requested", turnIndex, {
      request_id: req.request_id,
      action_type: req.action_type,
      target_tool: req.target_tool,
      justification: clip(req.justification, EVENT_TEXT_CHARS),
      mediation_version: req.mediation_version,
    });
    const decision = this.validate(req);
    const argsSummary = argumentsSummary(req.arguments);
    const base = {
      kind: "action" as const,
      request_id: req.request_id,
      workflow_id: null,
      step_index: null,
      action_type: req.action_type,
      tool: req.target_tool,
      arguments_summary: argsSummary,
    };
    if (decision !== "approved") {
      emit("mediated_action_rejected", turnIndex, {
        request_id: req.request_id,
        target_tool: req.target_tool,
        policy_decision: decision,
        failure_reason: decisionText(decision),
        rejection_reason: rejectionReason(decision),
      });
      this.recordRejection(out, base, decision, round);
      return;
    }
    this.approvedThisRequest++;
    emit("mediated_action_approved", turnIndex, {
      request_id: req.request_id,
      target_tool: req.target_tool,
      action_type: req.action_type,
      policy_decision: "approved",
    });
    const ex = await this.execute(req.target_tool, req.arguments, turnIndex);
    emit("mediated_action_completed", turnIndex, {
      request_id: req.request_id,
      target_tool: req.target_tool,
      action_type: req.action_type,
      status: ex.status,
      arguments_summary: argsSummary,
      result_summary: clip(ex.summary, EVENT_TEXT_CHARS),
      failure_reason: ex.failureReason,
      policy_decision: ex.decision,
    });
    this.recordExecution(out, base, ex, round);
  }

  private async processWorkflow(
    raw: string,
    turnIndex: number,
    round: number,
    out: RoundOutcome,
  ): Promise<void> {
    const emit = this.ctx.emit;
    const cc = this.ctx.cc;
    const parsed = parseWorkflowBlock(raw);
    if (!parsed.ok) {
      const workflowId =
        (parsed.partial.workflow_id as string | null) ?? `malformed_${++this.malformedCount}`;
      const stepCount = typeof parsed.partial.step_count === "number" ? parsed.partial.step_count : 0;
      const reason = `${decisionText("rejected:malformed_request")}: ${parsed.reason}`;
      emit("mediated_workflow_requested", turnIndex, {
        workflow_id: workflowId,
        step_count: stepCount,
        mediation_version: parsed.partial.mediation_version ?? null,
        justification: "",
      });
      const n = Math.max(stepCount, 1);
      for (let i = 0; i < n; i++) {
        emit("mediated_workflow_step_rejected", turnIndex, {
          workflow_id: workflowId,
          step_index: stepCount ? i : null,
          target_tool: null,
          policy_decision: "rejected:malformed_request",
          rejection_reason: "malformed_request",
          failure_reason: reason,
        });
        this.record(
          out,
          {
            kind: "workflow_step",
            request_id: stepCount ? `wf_step_${i}` : workflowId,
            workflow_id: workflowId,
            step_index: stepCount ? i : null,
            action_type: null,
            tool: null,
            status: "rejected",
            policy_decision: "rejected:malformed_request",
            reason,
            arguments_summary: "",
            result_summary: "",
          },
          round,
        );
      }
      this.finishWorkflow(
        {
          workflow_id: workflowId,
          total_steps: stepCount,
          approved_steps: 0,
          rejected_steps: n,
          completed_steps: 0,
          failed_steps: 0,
        },
        turnIndex,
      );
      return;
    }
    const wf = parsed.value;
    emit("mediated_workflow_requested", turnIndex, {
      workflow_id: wf.workflow_id,
      step_count: wf.steps.length,
      mediation_version: wf.mediation_version,
      justification: clip(wf.justification, EVENT_TEXT_CHARS),
    });
    const agg: WorkflowAggregate = {
      workflow_id: wf.workflow_id,
      total_steps: wf.steps.length,
      approved_steps: 0,
      rejected_steps: 0,
      completed_steps: 0,
      failed_steps: 0,
    };
    let wfDecision: PolicyDecision | null = null;
    if (!cc.enableExecutionMediation) wfDecision = "rejected:mediation_disabled";
    else if (wf.mediation_version !== WORKFLOW_VERSION) wfDecision = "rejected:unsupported_mediation_version";
    else if (wf.steps.length > cc.maxMediatedWorkflowSteps)
      wfDecision = "rejected:workflow_step_limit_exceeded";

    for (const step of wf.steps) {
      const requestId = `wf_step_${step.step_index}`;
      const argsSummary = argumentsSummary(step.arguments);
      const base = {
        kind: "workflow_step" as const,
        request_id: requestId,
        workflow_id: wf.workflow_id,
        step_index: step.step_index,
        action_type: step.action_type,
        tool: step.target_tool,
        arguments_summary: argsSummary,
      };
      let decision: PolicyDecision;
      if (wfDecision) {
        decision = wfDecision;
      } else {
        emit("mediated_workflow_step_requested", turnIndex, {
          workflow_id: wf.workflow_id,
          step_index: step.step_index,
          action_type: step.action_type,
          target_tool: step.target_tool,
          justification: clip(step.justification, EVENT_TEXT_CHARS),
        });
        decision = this.validate({ ...step, mediation_version: "v0.8.0" });
      }
      if (decision !== "approved") {
        agg.rejected_steps++;
        emit("mediated_workflow_step_rejected", turnIndex, {
          workflow_id: wf.workflow_id,
          step_index: step.step_index,
          target_tool: step.target_tool,
          policy_decision: decision,
          rejection_reason: rejectionReason(decision),
          failure_reason: decisionText(decision),
        });
        this.recordRejection(out, base, decision, round);
        continue;
      }
      this.approvedThisRequest++;
      agg.approved_steps++;
      emit("mediated_workflow_step_approved", turnIndex, {
        workflow_id: wf.workflow_id,
        step_index: step.step_index,
        target_tool: step.target_tool,
        action_type: step.action_type,
        policy_decision: "approved",
      });
      const ex = await this.execute(step.target_tool, step.arguments, turnIndex);
      if (ex.status === "completed") agg.completed_steps++;
      else agg.failed_steps++;
      emit("mediated_workflow_step_completed", turnIndex, {
        workflow_id: wf.workflow_id,
        step_index: step.step_index,
        target_tool: step.target_tool,
        action_type: step.action_type,
        status: ex.status,
        arguments_summary: argsSummary,
        result_summary: clip(ex.summary, EVENT_TEXT_CHARS),
        failure_reason: ex.failureReason,
        policy_decision: ex.decision,
      });
      this.recordExecution(out, base, ex, round);
    }
    this.finishWorkflow(agg, turnIndex);
  }

  private finishWorkflow(agg: WorkflowAggregate, turnIndex: number): void {
    this.workflows.push(agg);
    this.ctx.emit("mediated_workflow_completed", turnIndex, { ...agg });
  }

  private async execute(
    toolName: string,
    args: Record<string, unknown>,
    turnIndex: number,
  ): Promise<Execution> {
    const tool = this.ctx.tools.find((t) => t.name === toolName);
    const fail = (why: string, content = "") => ({
      status: "failed" as const,
      summary: "",
      content,
      failureReason: why,
      decision: "completed_with_execution_failure",
    });
    if (!tool) return fail(`tool ${toolName} is not available`);
    if (this.ctx.signal.aborted) throw new RunAbortedError("cancelled");
    try {
      const res = await tool.call(args, {
        signal: this.ctx.signal,
        sessionId: this.ctx.sessionId,
        turnIndex,
      });
      // The same audit trail as the api backend's tool loop (argument names only, never values).
      if (isFederationAudit(res.audit)) {
        for (const e of federationAuditEvents(res.audit)) this.ctx.emit(e.type, turnIndex, e.payload);
      }
      const content = typeof res.content === "string" ? res.content : JSON.stringify(res.content);
      if (res.isError)
        return fail(`downstream tool returned an error: ${clip(content, EVENT_TEXT_CHARS)}`, content);
      const summary =
        content.length > RESULT_SUMMARY_CHARS
          ? `${content.slice(0, RESULT_SUMMARY_CHARS)} [truncated]`
          : content;
      return { status: "completed", summary, content, failureReason: null, decision: "approved" };
    } catch (err) {
      if (err instanceof RunAbortedError || this.ctx.signal.aborted) throw new RunAbortedError("cancelled");
      return fail(`downstream invocation failed: ${(err as Error).message}`);
    }
  }

  /** Totals and lists for `result.mediation`. */
  summary(followUpTurns: number): Record<string, unknown> {
    const count = (s: string) => this.records.filter((r) => r.status === s).length;
    return {
      enabled: this.ctx.cc.enableExecutionMediation,
      federation_active: this.federationActive,
      policy_profile: this.ctx.cc.mediationPolicyProfile,
      actions: this.records,
      workflows: this.workflows,
      totals: {
        requested: this.records.length,
        approved: this.approvedThisRequest,
        rejected: count("rejected"),
        completed: count("completed"),
        failed: count("failed"),
      },
      follow_up_turns: followUpTurns,
    };
  }
}

/** The message that hands a round's results back to the model (a `--resume` turn). */
export function feedbackMessage(out: RoundOutcome, remaining: number): string {
  const lines = ["[Mediated Action Results]", "The runtime processed your mediated requests:"];
  for (const r of out.records) {
    const who = r.workflow_id ? `workflow ${r.workflow_id} step ${r.step_index}` : r.request_id;
    if (r.status === "rejected") {
      lines.push(
        "",
        `- ${who} → ${r.tool ?? "(unknown tool)"}: rejected — ${r.reason} (policy: ${r.policy_decision})`,
      );
      continue;
    }
    const content = out.feedback.find((f) => f.record === r)?.content ?? "";
    const body =
      content.length > FEEDBACK_RESULT_CHARS
        ? `${content.slice(0, FEEDBACK_RESULT_CHARS)} [truncated]`
        : content || "(empty result)";
    lines.push(
      "",
      `- ${who} → ${r.tool}: ${r.status}${r.reason ? ` — ${r.reason}` : ""}`,
      "<result>",
      body,
      "</result>",
    );
  }
  lines.push(
    "",
    `Remaining mediated actions for this request: ${remaining}.`,
    "",
    "[Instructions]",
    "Continue the task using these results and give your answer.",
  );
  return lines.join("\n");
}
