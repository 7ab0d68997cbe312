// The `verification-report.md` artifact: the model's raw answer (the result only carries the
// parsed fields) under a header recording what was verified, the verdict, and exactly which
// evidence (path, size, hash) it was based on — so the report stays meaningful after the files change.
import type { EvidenceEntry } from "./evidence.js";
import type { Verdict } from "./taxonomy.js";
import type { ModelVerdict } from "./verdict.js";

export interface ReportInput {
  task: string;
  scope?: string | null;
  verdict: Verdict;
  model_verdict: ModelVerdict;
  /** Where the verdict came from (structured tool call or the text block). */
  verdict_source?: "submit_verdict" | "text";
  evidence: readonly EvidenceEntry[];
  /** The model's raw final text, verbatim. */
  outputText: string;
  backend?: string;
  model?: string;
  /** ISO-8601 timestamp of the report. */
  createdAt?: string;
}

/** Markdown table cells cannot hold pipes or newlines. */
function cell(value: string): string {
  return value.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function quoted(text: string): string {
  return text
    .split(/\r?\n/)
    .map((l) => `> ${l}`)
    .join("\n");
}

/** Build the report body: header, evidence table, then the model output unchanged. */
export function buildVerificationReport(input: ReportInput): string {
  const lines = ["# Verification report", "", `- Verdict: **${input.verdict}**`];
  lines.push(`- Model verdict: ${input.model_verdict ?? "(none given)"}`);
  if (input.verdict_source) lines.push(`- Verdict source: ${input.verdict_source}`);
  if (input.backend || input.model) {
    lines.push(`- Backend: ${[input.backend, input.model].filter(Boolean).join(" / ")}`);
  }
  if (input.createdAt) lines.push(`- Created: ${input.createdAt}`);
  lines.push("", "## Task", "", quoted(input.task));
  if (input.scope) lines.push("", "## Scope", "", quoted(input.scope));

  lines.push("", "## Evidence", "");
  if (input.evidence.length === 0) {
    lines.push("No evidence paths were given.");
  } else {
    lines.push("| path | exists | bytes | sha256 |", "|---|---|---|---|");
    for (const e of input.evidence) {
      lines.push(`| ${cell(e.path)} | ${e.exists ? "yes" : "no"} | ${e.bytes ?? "-"} | ${e.sha256 ?? "-"} |`);
    }
  }

  lines.push("", "## Model output", "", input.outputText.replace(/\s+$/, ""), "");
  return lines.join("\n");
}
