// The reconstructed continuation prompt (upstream v0.7–v1.0 "session continuity"), used when
// native `--resume` is impossible or fails. Fixed against upstream: turns are real user/assistant
// pairs from the stored conversation (not first-line summaries zipped from two independently
// windowed lists), the newest warnings are kept (not the oldest), and the forwarding summary is
// deterministic. Rendering is a pure function of its inputs.
import type { ClaudeCodeConfig } from "../../config.js";
import type { ContentBlock, RunEvent, TranscriptMessage } from "../backend.js";
import { capText, joinSections, section } from "./prompt.js";

export const RECONSTRUCTION_VERSION = "v1.0.0";

export interface ContinuationPolicy {
  max_recent_turns: number;
  max_warnings: number;
  max_forwarding_events: number;
  include_verification_context: boolean;
  include_tool_downgrade_context: boolean;
}

export interface ContinuationStats {
  turns_included: number;
  turns_omitted: number;
  warnings_included: number;
  warnings_omitted: number;
  forwarding_events_included: number;
  forwarding_events_omitted: number;
  reconstruction_version: string;
}

export interface ForwardingSummary {
  forwarding_mode: string;
  compatible_tool_names: string[];
  dropped_tool_names: string[];
  recent_drop_reasons: string[];
}

export interface ContinuationContext {
  sessionId: string;
  sessionSummary: string | null;
  turns: { user: string; assistant: string }[];
  warnings: string[];
  forwarding: ForwardingSummary | null;
  constraints: [string, string][];
  mediatedSummaries: string[];
  stats: ContinuationStats;
  policy: ContinuationPolicy;
}

export function buildPolicy(cc: ClaudeCodeConfig): ContinuationPolicy {
  return {
    max_recent_turns: cc.maxContinuationTurns,
    max_warnings: cc.maxContinuationWarnings,
    max_forwarding_events: cc.maxContinuationForwardingEvents,
    include_verification_context: cc.includeVerificationContext,
    include_tool_downgrade_context: cc.includeToolDowngradeContext,
  };
}

function blockText(content: string | ContentBlock[]): { text: string; onlyToolResults: boolean } {
  if (typeof content === "string") return { text: content, onlyToolResults: false };
  const parts: string[] = [];
  let onlyToolResults = content.length > 0;
  for (const b of content) {
    if (b.type === "text") {
      parts.push(b.text);
      onlyToolResults = false;
    } else if (b.type === "tool_use") {
      parts.push(`[tool call: ${b.name}]`);
      onlyToolResults = false;
    }
  }
  return { text: parts.join("\n").trim(), onlyToolResults };
}

/** User/assistant turns from the stored conversation; a tool-result-only user message is no new turn. */
export function turnsFromHistory(history: TranscriptMessage[]): { user: string; assistant: string }[] {
  const turns: { user: string; assistant: string }[] = [];
  for (const m of history) {
    const { text, onlyToolResults } = blockText(m.content);
    if (m.role === "user") {
      if (onlyToolResults) continue;
      turns.push({ user: text, assistant: "" });
    } else {
      if (!turns.length) turns.push({ user: "", assistant: "" });
      const t = turns[turns.length - 1];
      t.assistant = t.assistant ? `${t.assistant}\n\n${text}` : text;
    }
  }
  return turns.filter((t) => t.user || t.assistant);
}

function str(v: unknown): string {
  return typeof v === "string" ? v.trim() : "";
}

/** Turns from upstream's events, for sessions whose conversation was not stored. */
export function turnsFromEvents(events: RunEvent[]): { user: string; assistant: string }[] {
  const turns: { user: string; assistant: string }[] = [];
  for (const e of events) {
    if (e.type === "user_input") {
      const u = str(e.payload.task) || str(e.payload.message);
      if (u) turns.push({ user: u, assistant: "" });
    } else if (e.type === "provider_response_summary") {
      const a = str(e.payload.output_text) || str(e.payload.summary);
      if (!a) continue;
      if (!turns.length || turns[turns.length - 1].assistant) turns.push({ user: "", assistant: a });
      else turns[turns.length - 1].assistant = a;
    }
  }
  return turns;
}

/** Python slicing semantics kept for compatibility: a window of 0 keeps everything. */
function lastN<T>(items: T[], n: number): T[] {
  return n <= 0 ? items.slice() : items.slice(-n);
}

function deriveWarnings(events: RunEvent[], policy: ContinuationPolicy): string[] {
  const out: string[] = [];
  for (const e of events) {
    const p = e.payload;
    if (e.type === "downstream_tool_catalog_resolved" && policy.include_tool_downgrade_context) {
      const dropped = Array.isArray(p.dropped_names) ? p.dropped_names.map(String) : [];
      if (dropped.length) {
        const mode = str(p.forwarding_mode) || "limited_text_injection";
        out.push(
          `In a prior turn ${dropped.length} tool(s) were not forwarded (${dropped.join(", ")}); forwarding mode: ${mode}.`,
        );
      } else if (p.forwarded === false) {
        out.push(
          `Federation tools were not forwarded in a prior turn: ${str(p.reason) || "backend does not support downstream tools"}.`,
        );
      }
    } else if (e.type === "workflow_normalization" && policy.include_verification_context) {
      const verdict = str(p.verdict);
      if (verdict) out.push(`Prior verification verdict: ${verdict}.`);
    }
  }
  return out;
}

function forwardingSummary(events: Record<string, unknown>[]): ForwardingSummary | null {
  if (!events.length) return null;
  const latest = events[events.length - 1];
  const mode =
    str(latest.forwarding_mode) ||
    (latest.forwarded === false ? "disabled" : latest.forwarded ? "limited_text_injection" : "none");
  const compatible: string[] = [];
  const dropped: string[] = [];
  const reasons: string[] = [];
  for (const p of events) {
    const d = Array.isArray(p.dropped_names) ? p.dropped_names.map(String) : [];
    // Only events that really forwarded (a count, not `false`) report forwarded tools.
    if (typeof p.forwarded === "number" && Array.isArray(p.visible_tools)) {
      for (const v of p.visible_tools.map(String))
        if (!d.includes(v) && !compatible.includes(v)) compatible.push(v);
    }
    for (const n of d) if (!dropped.includes(n)) dropped.push(n);
    const r = str(p.reason);
    if (r && !reasons.includes(r)) reasons.push(r);
  }
  return {
    forwarding_mode: mode,
    compatible_tool_names: compatible,
    dropped_tool_names: dropped,
    recent_drop_reasons: reasons,
  };
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)} [truncated]` : text;
}

/** One line per earlier mediated action (§3.8), when the config opts in. */
export function mediatedSummaries(events: RunEvent[], cc: ClaudeCodeConfig): string[] {
  if (!cc.includeMediatedResultsInContinuation) return [];
  const withRejected = cc.includeRejectedMediationInContinuation;
  const single: string[] = [];
  const workflow: string[] = [];
  for (const e of events) {
    const p = e.payload;
    if (e.type === "mediated_action_completed" && p.status === "completed") {
      const name = str(p.tool_name) || str(p.target_tool);
      if (!name) continue;
      const type = str(p.action_type) ? ` (${str(p.action_type)})` : "";
      const summary = str(p.result_summary);
      single.push(`Tool ${name}${type}: ${summary ? cut(summary, 150) : "(completed, no result summary)"}`);
    } else if (e.type === "mediated_action_rejected" && withRejected) {
      const why = str(p.failure_reason) || str(p.policy_decision) || "rejected by policy";
      single.push(`Tool ${str(p.target_tool)} (rejected): ${why.slice(0, 100)}`);
    } else if (e.type === "mediated_workflow_step_completed") {
      const head = `Workflow ${str(p.workflow_id)} step ${String(p.step_index)}: tool ${str(p.target_tool)}`;
      if (p.status === "completed") {
        const summary = str(p.result_summary);
        workflow.push(`${head}: ${summary ? cut(summary, 120) : "(completed, no result summary)"}`);
      } else if (p.status === "failed") {
        workflow.push(`${head} (failed): ${str(p.failure_reason).slice(0, 80)}`);
      }
    } else if (e.type === "mediated_workflow_step_rejected" && withRejected) {
      const why = str(p.failure_reason) || str(p.rejection_reason) || "rejected by policy";
      workflow.push(
        `Workflow ${str(p.workflow_id)} step ${String(p.step_index)}: tool ${str(p.target_tool)} (rejected): ${why.slice(0, 80)}`,
      );
    }
  }
  return [...single, ...workflow];
}

export function buildContext(input: {
  cc: ClaudeCodeConfig;
  sessionId: string;
  sessionSummary: string | null;
  history: TranscriptMessage[];
  events: RunEvent[];
  workingDirectory: string;
  profileName: string;
}): ContinuationContext {
  const policy = buildPolicy(input.cc);
  const all = input.history.length ? turnsFromHistory(input.history) : turnsFromEvents(input.events);
  const turns = lastN(all, policy.max_recent_turns);
  const allWarnings = deriveWarnings(input.events, policy);
  const warnings = policy.max_warnings <= 0 ? [] : allWarnings.slice(-policy.max_warnings);
  const fwdAll = input.events
    .filter((e) => e.type === "downstream_tool_catalog_resolved")
    .map((e) => e.payload);
  const fwd = lastN(fwdAll, policy.max_forwarding_events);
  return {
    sessionId: input.sessionId,
    sessionSummary: input.sessionSummary,
    turns,
    warnings,
    forwarding: forwardingSummary(fwd),
    constraints: [
      ["working_directory", input.workingDirectory],
      ["profile", input.profileName],
    ],
    mediatedSummaries: mediatedSummaries(input.events, input.cc),
    policy,
    stats: {
      turns_included: turns.length,
      turns_omitted: all.length - turns.length,
      warnings_included: warnings.length,
      warnings_omitted: allWarnings.length - warnings.length,
      forwarding_events_included: fwd.length,
      forwarding_events_omitted: fwdAll.length - fwd.length,
      reconstruction_version: RECONSTRUCTION_VERSION,
    },
  };
}

/** Upstream §2.4 section order; `[System]` only when the system prompt cannot go in a flag. */
export function renderContinuationPrompt(
  ctx: ContinuationContext,
  opts: { task: string; inlineSystemPrompt: string | null; toolsBlock: string },
): string {
  const s = ctx.stats;
  const contLines = [`Session: ${ctx.sessionId}`, `Reconstruction: ${s.reconstruction_version}`];
  contLines.push(
    `Context: ${s.turns_included} turn(s) included${s.turns_omitted > 0 ? `, ${s.turns_omitted} omitted` : ""}`,
  );
  const recent: string[] = [];
  for (const t of ctx.turns) {
    if (t.user) recent.push(`[User]\n${capText(t.user)}`);
    if (t.assistant) recent.push(`[Assistant]\n${capText(t.assistant)}`);
  }
  const fwd = ctx.forwarding;
  const fwdLines: string[] = [];
  if (fwd) {
    fwdLines.push(`Mode: ${fwd.forwarding_mode}`);
    if (fwd.compatible_tool_names.length) fwdLines.push(`Forwarded: ${fwd.compatible_tool_names.join(", ")}`);
    if (fwd.dropped_tool_names.length) fwdLines.push(`Dropped: ${fwd.dropped_tool_names.join(", ")}`);
    for (const r of fwd.recent_drop_reasons) fwdLines.push(`Drop reason: ${r}`);
  }
  const mediated = ctx.mediatedSummaries.length
    ? [
        "In earlier turns the runtime ran these tool actions on your behalf:",
        ...ctx.mediatedSummaries.map((m) => `- ${m}`),
        "These were runtime-mediated actions, not native tool calls.",
      ].join("\n")
    : "";
  return joinSections([
    section("[System]", opts.inlineSystemPrompt),
    section("[Continuation Session]", contLines.join("\n")),
    section("[Session Summary]", ctx.sessionSummary),
    recent.length ? ["[Recent Interaction State]", ...recent].join("\n\n") : "",
    opts.toolsBlock,
    section("[Relevant Warnings]", ctx.warnings.map((w) => `- ${w}`).join("\n")),
    section("[Tool Forwarding Context]", fwdLines.join("\n")),
    section("[Active Constraints]", ctx.constraints.map(([k, v]) => `${k}: ${v}`).join("\n")),
    section("[Mediated Execution Context]", mediated),
    section("[Current Request]", opts.task),
    section(
      "[Instructions]",
      "You are continuing this session. Build on the session summary and the recent interaction state above, and respond to the current request.",
    ),
  ]);
}
