// Turning a model's answer into a verdict. Two sources: a structured `submit_verdict` tool call
// (api backend) and the text block the system prompt asks for (both backends). The text parser is
// deliberately tolerant of how models actually format that block (markdown bold, backticks,
// trailing punctuation, numbered lists, inline items), because a parse miss becomes a fail-closed
// verdict. The fail-closed table of CONTRACT.md §11 is applied after parsing, in one place.
import { z } from "zod";
import type { AgentTool } from "../backends/backend.js";
import { VERDICTS, type Verdict } from "./taxonomy.js";

/** What the model said: a recognised verdict, a verdict we could not read, or nothing at all. */
export type ModelVerdict = Verdict | "unrecognised" | null;

export interface VerdictLists {
  findings: string[];
  contradictions: string[];
  missing_evidence: string[];
  restrictions: string[];
}

export interface TextVerdict extends VerdictLists {
  model_verdict: ModelVerdict;
  /** The text after `VERDICT:` on the winning line (markdown stripped), for logs; null if none. */
  raw_verdict: string | null;
}

export interface ResolvedVerdict extends VerdictLists {
  /** The verdict after the fail-closed table: what the result reports. */
  verdict: Verdict;
  model_verdict: ModelVerdict;
  source: "submit_verdict" | "text";
}

const LIST_LABELS: ReadonlyArray<[keyof VerdictLists, string]> = [
  ["findings", "FINDINGS"],
  ["contradictions", "CONTRADICTIONS"],
  ["missing_evidence", "MISSING[_ ]EVIDENCE"],
  ["restrictions", "RESTRICTIONS"],
];

// A label starts its line, after optional quote/heading/bullet/emphasis markers, and is a whole
// word: `KEY_FINDINGS:` and `VERDICTS:` are not labels.
const LINE_PREFIX = "^[\\s>#*_`•-]*";
const labelLine = (label: string) =>
  new RegExp(`${LINE_PREFIX}(?:${label})(?![\\p{L}\\p{N}])[*_\`\\s]*:(.*)$`, "iu");
const VERDICT_LINE = labelLine("VERDICT");
const LIST_LINES = LIST_LABELS.map(([key, label]) => [key, labelLine(label)] as const);
const ANY_LABEL_LINE = labelLine(`VERDICT|${LIST_LABELS.map(([, l]) => l).join("|")}`);

// Longest spellings first; a verdict word must not run on into another word (`pass_or_fail`,
// `pass/fail`, `pass-through` are not verdicts).
const VERDICT_WORDS: ReadonlyArray<[RegExp, Verdict]> = [
  [/^pass[_\s-]+with[_\s-]+restrictions/, "pass_with_restrictions"],
  [/^fail[_\s-]+closed/, "fail_closed"],
  [/^insufficient[_\s-]+evidence/, "insufficient_evidence"],
  [/^pass(?:ed)?/, "pass"],
  [/^fail(?:ed)?/, "fail_closed"],
  [/^insufficient/, "insufficient_evidence"],
];
const RUNS_ON = /^[\p{L}\p{N}_/|-]/u;
// `pass | fail_closed`, `pass or fail`: a restated choice, not an answer.
const ALTERNATIVES = /^\s*(?:[|/]|or\s)/iu;

/** Strip the emphasis, code marks, quotes and brackets models wrap around a verdict value. */
function stripVerdictMarks(s: string): string {
  return s.replace(/^[\s*_`"'“”[(<{•-]+|[\s*_`"'“”\])>}]+$/gu, "");
}

/** Map a verdict word as a model might write it (`**PASS**.`, `fail closed`) to a verdict. */
export function normalizeVerdictWord(value: string): Verdict | null {
  const v = stripVerdictMarks(value).toLowerCase();
  for (const [re, verdict] of VERDICT_WORDS) {
    const m = re.exec(v);
    if (!m) continue;
    const rest = v.slice(m[0].length);
    return RUNS_ON.test(rest) || ALTERNATIVES.test(rest) ? null : verdict;
  }
  return null;
}

const BULLET = /^\s*(?:[-•+]|\*(?!\*)|\d{1,3}[.)](?=\s|$))\s*(.*)$/u;
const INLINE_BULLET = /^\s*(?:[-•+*]|\d{1,3}[.)])\s+(.*)$/u;
const PLACEHOLDER = /^(?:none|n\/a|na|nil|null|nothing)[.!]?$/iu;

function cleanItem(s: string): string | null {
  const item = s.trim();
  const bare = stripVerdictMarks(item);
  if (bare === "" || PLACEHOLDER.test(bare)) return null;
  return item;
}

/** Items of the list that starts at line `start` (the label line). */
function readList(lines: string[], start: number, inline: string): string[] {
  const items: string[] = [];
  // `**FINDINGS:** item` leaves the closing bold marks in front of the inline item.
  const afterLabel = inline.trimStart().replace(/^\*\*(?=\s|$)/u, "");
  const first = cleanItem(INLINE_BULLET.exec(afterLabel)?.[1] ?? afterLabel);
  if (first !== null) items.push(first);
  let previousWasItem = first !== null;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") {
      previousWasItem = false;
      continue;
    }
    if (ANY_LABEL_LINE.test(line)) break;
    const bullet = BULLET.exec(line);
    if (bullet) {
      const item = cleanItem(bullet[1]!);
      if (item !== null) items.push(item);
      previousWasItem = item !== null;
      continue;
    }
    // An indented line right after an item continues it (wrapped bullet text).
    if (previousWasItem && /^\s/.test(line)) {
      items[items.length - 1] += ` ${line.trim()}`;
      continue;
    }
    break;
  }
  return items;
}

/**
 * Read the VERDICT/FINDINGS/CONTRADICTIONS/MISSING_EVIDENCE/RESTRICTIONS block from model text.
 * The LAST `VERDICT:` line wins (models often restate the format or think aloud before their final
 * answer), and likewise the last occurrence of each list label. A `VERDICT:` line with nothing
 * after the colon takes its value from the next non-blank line.
 */
export function parseVerdictText(text: string): TextVerdict {
  const lines = text.split(/\r?\n/);
  let raw: string | null = null;
  const listStarts = new Map<keyof VerdictLists, [number, string]>();

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const v = VERDICT_LINE.exec(line);
    if (v) {
      let value = stripVerdictMarks(v[1]!);
      if (value === "") {
        const next = lines.slice(i + 1).find((l) => l.trim() !== "");
        value = next !== undefined && !ANY_LABEL_LINE.test(next) ? stripVerdictMarks(next) : "";
      }
      raw = value;
      continue;
    }
    for (const [key, re] of LIST_LINES) {
      const m = re.exec(line);
      if (m) {
        listStarts.set(key, [i, m[1]!]);
        break;
      }
    }
  }

  const list = (key: keyof VerdictLists) => {
    const at = listStarts.get(key);
    return at ? readList(lines, at[0], at[1]) : [];
  };
  return {
    model_verdict: raw === null ? null : (normalizeVerdictWord(raw) ?? "unrecognised"),
    raw_verdict: raw,
    findings: list("findings"),
    contradictions: list("contradictions"),
    missing_evidence: list("missing_evidence"),
    restrictions: list("restrictions"),
  };
}

/**
 * The fail-closed table (CONTRACT.md §11). With failClosed, anything short of a positive or
 * negative answer (insufficient_evidence, unrecognised, absent) becomes fail_closed; without it,
 * an unreadable answer is reported as insufficient_evidence.
 */
export function applyFailClosed(modelVerdict: ModelVerdict, failClosed: boolean): Verdict {
  switch (modelVerdict) {
    case "pass":
    case "pass_with_restrictions":
    case "fail_closed":
      return modelVerdict;
    default: // insufficient_evidence, unrecognised, absent
      return failClosed ? "fail_closed" : "insufficient_evidence";
  }
}

// ---------------------------------------------------------------------------------------------
// submit_verdict: the structured channel.

const MAX_ITEMS = 200;
const MAX_ITEM_CHARS = 4000;

const listField = z.preprocess(
  (v) => (typeof v === "string" ? [v] : v),
  z
    .array(z.string().max(MAX_ITEM_CHARS))
    .max(MAX_ITEMS)
    .optional()
    .transform((items) => (items ?? []).map(cleanItem).filter((s): s is string => s !== null)),
);

const SubmitVerdictInput = z.object({
  verdict: z.string().transform((v, ctx) => {
    const verdict = normalizeVerdictWord(v);
    if (verdict === null) {
      ctx.addIssue({ code: "custom", message: `must be one of ${VERDICTS.join(", ")}` });
      return z.NEVER;
    }
    return verdict;
  }),
  findings: listField,
  contradictions: listField,
  missing_evidence: listField,
  restrictions: listField,
});

export type SubmittedVerdict = VerdictLists & { verdict: Verdict };

/**
 * Validate a `submit_verdict` tool call input. Tolerates what models commonly send (verdict case
 * or aliases like "fail", a bare string for a list, missing lists) and rejects the rest with a
 * message naming the field, which the api backend returns to the model as an is_error result.
 */
export function fromSubmitVerdict(
  input: unknown,
): { ok: true; value: SubmittedVerdict } | { ok: false; error: string } {
  const parsed = SubmitVerdictInput.safeParse(input);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join(".") : "input";
  return { ok: false, error: `Invalid submit_verdict ${field}: ${issue.message}` };
}

const stringList = (description: string) => ({
  type: "array",
  items: { type: "string" },
  description,
});

/** The tool definition (Anthropic `tools[]` shape) offered to the model on verify runs. */
export const SUBMIT_VERDICT_TOOL = {
  name: "submit_verdict",
  description:
    "Submit the final verification verdict with its findings. Call this exactly once, after " +
    "examining the evidence. Base every item only on the supplied evidence.",
  input_schema: {
    type: "object",
    properties: {
      verdict: {
        type: "string",
        enum: [...VERDICTS],
        description:
          "pass: the evidence fully supports the claim; pass_with_restrictions: it does, with " +
          "stated limits; fail_closed: it contradicts the claim or you cannot confirm it; " +
          "insufficient_evidence: the evidence is not enough to decide.",
      },
      findings: stringList("What the evidence shows, one observation per item."),
      contradictions: stringList("Where the evidence contradicts the claim."),
      missing_evidence: stringList("Evidence that would be needed but was not supplied."),
      restrictions: stringList("Limits on the verdict (what it does not cover)."),
    },
    required: ["verdict", "findings", "contradictions", "missing_evidence", "restrictions"],
    additionalProperties: false,
  },
} as const;

/**
 * submit_verdict as an AgentTool for the api backend's tool loop. Calling it only validates and
 * acknowledges; the verdict itself is read afterwards from RunResult.toolCalls by resolveVerdict.
 */
export function submitVerdictAgentTool(): AgentTool {
  return {
    name: SUBMIT_VERDICT_TOOL.name,
    description: SUBMIT_VERDICT_TOOL.description,
    inputSchema: SUBMIT_VERDICT_TOOL.input_schema as unknown as Record<string, unknown>,
    readOnly: true,
    source: "verification",
    async call(input) {
      const r = fromSubmitVerdict(input);
      return r.ok
        ? { content: `Verdict recorded: ${r.value.verdict}. You may stop now.`, isError: false }
        : { content: `${r.error}. Call submit_verdict again with a valid input.`, isError: true };
    },
  };
}

/**
 * Whether a run produced anything to judge. Blank text with a submit_verdict call is an answer;
 * blank text without one is the v1.1.2 "empty response" failure, not a verdict.
 */
export function hasAnswer(opts: {
  outputText: string;
  toolCalls?: ReadonlyArray<{ name: string; input: unknown }>;
}): boolean {
  return (
    opts.outputText.trim() !== "" || (opts.toolCalls ?? []).some((c) => c.name === SUBMIT_VERDICT_TOOL.name)
  );
}

/**
 * Decide the verdict of a finished run: the last valid submit_verdict call wins; otherwise the
 * text block is parsed. An invalid submit_verdict with no readable text verdict counts as an
 * unrecognised answer (the model did answer, just not usably), never as silence.
 */
export function resolveVerdict(opts: {
  outputText: string;
  toolCalls?: ReadonlyArray<{ name: string; input: unknown }>;
  failClosed: boolean;
}): ResolvedVerdict {
  let submitted: SubmittedVerdict | null = null;
  let invalidSubmission = false;
  for (const call of opts.toolCalls ?? []) {
    if (call.name !== SUBMIT_VERDICT_TOOL.name) continue;
    const r = fromSubmitVerdict(call.input);
    if (r.ok) submitted = r.value;
    else invalidSubmission = true;
  }
  if (submitted) {
    const { verdict, ...lists } = submitted;
    return {
      verdict: applyFailClosed(verdict, opts.failClosed),
      model_verdict: verdict,
      source: "submit_verdict",
      ...lists,
    };
  }
  const text = parseVerdictText(opts.outputText);
  const modelVerdict = text.model_verdict ?? (invalidSubmission ? "unrecognised" : null);
  return {
    verdict: applyFailClosed(modelVerdict, opts.failClosed),
    model_verdict: modelVerdict,
    source: "text",
    findings: text.findings,
    contradictions: text.contradictions,
    missing_evidence: text.missing_evidence,
    restrictions: text.restrictions,
  };
}
