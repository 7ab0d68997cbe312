// The v1.1.1 preflight: deterministic heuristics over the request text (no I/O) that grade how
// narrow and well-targeted a verification request is. Kept exactly as the original, quirks
// included (e.g. "build"/"run"/"add" count as execution verbs, `src/module.py` yields the target
// `/module.py`), because orchestrators route on these codes. Standard mode only: `ok` is always
// true here; the restricted (APNTalk) mode that could block is out of scope.
import { OPERATOR_GUIDANCE, type ReasonCode } from "./taxonomy.js";

/** What the preflight looks at: the verify_task input fields. */
export interface PreflightInput {
  task: string;
  scope?: string | null;
  evidence_paths?: readonly string[] | null;
}

export interface RequestShape {
  is_narrow: boolean;
  breadth_score: number;
  detected_targets: string[];
  detected_risks: string[];
}

export interface PreflightResult {
  /** False only in restricted mode with restricted_mode_mismatch; always true in standard mode. */
  ok: boolean;
  lint_codes: ReasonCode[];
  hints: string[];
  /** Internal summary for logs/events; not part of the API result. */
  normalized_scope_summary: string;
  shape: RequestShape;
}

// Python's \w and \b are Unicode-aware; these keep the same word notion in JS.
const W = "[\\p{L}\\p{N}_]";
const B_BEFORE = `(?<!${W})`;
const B_AFTER = `(?!${W})`;
const word = (alternatives: string) => `${B_BEFORE}(?:${alternatives})${B_AFTER}`;

const EXECUTION_VERBS: ReadonlySet<string> = new Set([
  "create",
  "write",
  "modify",
  "update",
  "fix",
  "implement",
  "delete",
  "remove",
  "add",
  "install",
  "run",
  "execute",
  "deploy",
  "build",
  "compile",
  "generate",
  "edit",
  "patch",
  "refactor",
  "rewrite",
]);

const BROAD_LANGUAGE = new RegExp(
  word(
    [
      "everything",
      "the whole",
      "the entire",
      "all of it",
      "the system",
      "all files",
      "the whole repo(?:sitory)?",
      "the entire codebase",
      "review everything",
      "check everything",
      "validate everything",
    ].join("|"),
  ),
  "iu",
);

const VERIFY_VERB = word("verify|check|validate|confirm|ensure|test");
const MULTIPLE_ASKS = new RegExp(`${VERIFY_VERB}.{5,60}${word("and|also")}.{5,60}${VERIFY_VERB}`, "iu");

// A path-ish token (starts at `.` or `/`) or a `name.ext` word.
const FILE_PATH = new RegExp(`[./][^\\s,;"']+|${B_BEFORE}${W}(?:${W}|-)*\\.${W}{1,6}${B_AFTER}`, "giu");
const QUOTED_CLAIM = /"[^"]{4,}"/gu;
const WORDS = new RegExp(`${W}+`, "gu");

const RISK_MULTIPLE = "multiple verification objectives detected";
const RISK_BROAD = "broad scope language detected";
const RISK_NO_TARGET = "no named target artifact or evidence path detected";

const codePoints = (s: string) => Array.from(s).length;

/** Python-style list repr, so the risk text matches the original's log lines. */
const pyList = (items: string[]) => `[${items.map((s) => `'${s}'`).join(", ")}]`;

function executionVerbs(text: string): string[] {
  return (text.toLowerCase().match(WORDS) ?? []).filter((w) => EXECUTION_VERBS.has(w));
}

/** Score request breadth 0–4 (one point per signal); <= 1 counts as narrow. */
export function analyzeRequestShape(input: PreflightInput): RequestShape {
  const combined = `${input.task} ${input.scope ?? ""}`.trim();
  let score = 0;
  const risks: string[] = [];

  if (MULTIPLE_ASKS.test(combined)) {
    score += 1;
    risks.push(RISK_MULTIPLE);
  }
  if (BROAD_LANGUAGE.test(combined)) {
    score += 1;
    risks.push(RISK_BROAD);
  }
  const verbs = executionVerbs(combined);
  if (verbs.length > 0) {
    score += 1;
    risks.push(`execution-oriented language detected: ${pyList(verbs.slice(0, 3))}`);
  }

  const candidates = [
    ...(combined.match(FILE_PATH) ?? []).filter((m) => codePoints(m) > 2),
    ...(combined.match(QUOTED_CLAIM) ?? []),
    ...(input.evidence_paths ?? []).slice(0, 5),
  ];
  const targets = [...new Set(candidates)];
  if (targets.length === 0) {
    score += 1;
    risks.push(RISK_NO_TARGET);
  }

  return {
    is_narrow: score <= 1,
    breadth_score: score,
    detected_targets: targets.slice(0, 8),
    detected_risks: risks,
  };
}

/**
 * Lint a verify request before any session exists, so the result can say what is wrong with the
 * request itself (too broad, no target, asks for execution) separately from the model's verdict.
 */
export function runPreflight(input: PreflightInput): PreflightResult {
  const shape = analyzeRequestShape(input);
  const lint: ReasonCode[] = [];
  const hints: string[] = [];
  const add = (code: ReasonCode) => {
    if (lint.includes(code)) return;
    lint.push(code);
    hints.push(...OPERATOR_GUIDANCE[code]);
  };

  // Only the task is checked for execution verbs (the original ignores scope here).
  if (executionVerbs(input.task).length > 0) add("out_of_profile_request");
  if (shape.breadth_score >= 2) add("scope_too_broad");
  else if (shape.breadth_score === 1 && shape.detected_targets.length === 0) add("ambiguous_request");
  if (shape.detected_risks.includes(RISK_NO_TARGET)) add("missing_required_context");

  const taskChars = Array.from(input.task);
  const snippet = taskChars.slice(0, 80).join("") + (taskChars.length > 80 ? "..." : "");
  const suffix =
    shape.detected_targets.length > 0 ? ` — targeting: ${shape.detected_targets.slice(0, 2).join(", ")}` : "";

  return { ok: true, lint_codes: lint, hints, normalized_scope_summary: snippet + suffix, shape };
}
