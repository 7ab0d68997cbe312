import { describe, expect, it } from "vitest";
import type { EvidenceFile } from "../../src/verification/evidence.js";
import { buildVerificationPrompt, verificationSystemPrompt } from "../../src/verification/prompt.js";
import { buildVerificationReport } from "../../src/verification/report.js";
import { parseVerdictText } from "../../src/verification/verdict.js";

const file = (over: Partial<EvidenceFile>): EvidenceFile => ({
  path: "out.json",
  resolved: "/w/out.json",
  exists: true,
  kind: "file",
  bytes: 14,
  sha256: "a".repeat(64),
  inside_allowed: true,
  denial: null,
  text: '{"name": "x"}\n',
  binary: false,
  truncated: false,
  ...over,
});

describe("verification system prompt", () => {
  it("describes the output block, which the parser reads back", () => {
    const p = verificationSystemPrompt({ submitVerdictTool: false });
    for (const label of ["VERDICT:", "FINDINGS:", "CONTRADICTIONS:", "MISSING_EVIDENCE:", "RESTRICTIONS:"]) {
      expect(p).toContain(label);
    }
    expect(p).toMatch(/read-only/);
    expect(p).not.toContain("submit_verdict");
    // The template's own VERDICT line is a restated choice, never a verdict.
    expect(parseVerdictText(p).model_verdict).toBe("unrecognised");
  });

  it("mentions the submit_verdict tool when it is offered", () => {
    expect(verificationSystemPrompt({ submitVerdictTool: true })).toContain("submit_verdict");
  });
});

describe("verification user prompt", () => {
  it("includes task, scope and each file's fenced contents with path, bytes and sha256", () => {
    const p = buildVerificationPrompt({
      task: "Verify out.json has a name",
      scope: "out.json only",
      evidence: [file({})],
    });
    expect(p).toContain("Task to verify: Verify out.json has a name");
    expect(p).toContain("Scope: out.json only");
    expect(p).toContain("### out.json");
    expect(p).toContain(`bytes: 14, sha256: ${"a".repeat(64)}`);
    expect(p).toContain('```\n{"name": "x"}\n```');
  });

  it("uses a fence longer than any backtick run in the evidence", () => {
    const p = buildVerificationPrompt({ task: "t", evidence: [file({ text: "a\n````\nb" })] });
    expect(p).toContain("`````\na\n````\nb\n`````");
  });

  it("notes missing, refused, binary, truncated, omitted and directory evidence", () => {
    const p = buildVerificationPrompt({
      task: "t",
      evidence: [
        file({ path: "gone.txt", exists: false, kind: null, bytes: null, sha256: null, text: null }),
        file({ path: "/etc/x", inside_allowed: false, bytes: null, sha256: null, text: null }),
        file({ path: "b.bin", binary: true, text: null }),
        file({ path: "cut.txt", bytes: 100, text: "0123", truncated: true }),
        file({ path: "none.txt", text: "", truncated: true }),
        file({ path: "dir", kind: "directory", bytes: null, sha256: null, text: null }),
      ],
    });
    expect(p).toMatch(/### gone\.txt\n\(missing/);
    expect(p).toMatch(/### \/etc\/x\n\(refused/);
    expect(p).toMatch(/binary or not UTF-8/);
    expect(p).toContain("(contents truncated: first 4 of 100 bytes shown)");
    expect(p).toContain("(contents omitted: the total evidence size limit was reached)");
    expect(p).toMatch(/### dir\n\(directory/);
  });

  it("can leave contents out for a backend that reads files itself", () => {
    const p = buildVerificationPrompt({ task: "t", evidence: [file({})], includeContents: false });
    expect(p).not.toContain('{"name"');
    expect(p).toContain("real path: /w/out.json");
  });

  it("says when no evidence was supplied", () => {
    expect(buildVerificationPrompt({ task: "t", evidence: [] })).toContain(
      "No evidence files were supplied.",
    );
  });
});

describe("verification report", () => {
  it("has a header with the verdict, an evidence table, and the raw output verbatim", () => {
    const body = buildVerificationReport({
      task: "Verify out.json",
      scope: "one file",
      verdict: "fail_closed",
      model_verdict: "insufficient_evidence",
      verdict_source: "text",
      evidence: [
        { path: "out|1.json", exists: true, bytes: 14, sha256: "a".repeat(64) },
        { path: "gone", exists: false, bytes: null, sha256: null },
      ],
      outputText: "VERDICT: insufficient\nFINDINGS:\n- none\n\n",
      backend: "api",
      model: "claude-x",
      createdAt: "2025-01-01T00:00:00.000Z",
    });
    expect(body).toContain("- Verdict: **fail_closed**");
    expect(body).toContain("- Model verdict: insufficient_evidence");
    expect(body).toContain("- Backend: api / claude-x");
    expect(body).toContain(`| out\\|1.json | yes | 14 | ${"a".repeat(64)} |`);
    expect(body).toContain("| gone | no | - | - |");
    expect(body).toContain("## Model output\n\nVERDICT: insufficient\nFINDINGS:\n- none\n");
    expect(body.startsWith("# Verification report")).toBe(true);
  });
});
