import { describe, expect, it } from "vitest";
import {
  applyFailClosed,
  fromSubmitVerdict,
  hasAnswer,
  normalizeVerdictWord,
  parseVerdictText,
  resolveVerdict,
  SUBMIT_VERDICT_TOOL,
  submitVerdictAgentTool,
} from "../../src/verification/verdict.js";

const block = (verdict: string) =>
  `Looked at the file.\n\nVERDICT: ${verdict}\nFINDINGS:\n- the schema matches\nCONTRADICTIONS:\n- none\n`;

// CONTRACT.md §11: the verdict table, one test per row for each fail_closed value.
describe.each([true, false])("verdict table with fail_closed=%s", (failClosed) => {
  const run = (text: string) => resolveVerdict({ outputText: text, failClosed });

  it("pass → pass", () => {
    expect(run(block("pass"))).toMatchObject({ verdict: "pass", model_verdict: "pass" });
  });

  it("pass_with_restrictions → pass_with_restrictions", () => {
    expect(run(block("pass_with_restrictions"))).toMatchObject({
      verdict: "pass_with_restrictions",
      model_verdict: "pass_with_restrictions",
    });
  });

  it("fail / fail_closed → fail_closed", () => {
    expect(run(block("fail"))).toMatchObject({ verdict: "fail_closed", model_verdict: "fail_closed" });
    expect(run(block("fail_closed"))).toMatchObject({ verdict: "fail_closed", model_verdict: "fail_closed" });
  });

  it(`insufficient / insufficient_evidence → ${failClosed ? "fail_closed" : "insufficient_evidence"}`, () => {
    const expected = failClosed ? "fail_closed" : "insufficient_evidence";
    expect(run(block("insufficient"))).toMatchObject({
      verdict: expected,
      model_verdict: "insufficient_evidence",
    });
    expect(run(block("insufficient_evidence"))).toMatchObject({
      verdict: expected,
      model_verdict: "insufficient_evidence",
    });
  });

  it(`unrecognised / absent → ${failClosed ? "fail_closed" : "insufficient_evidence"}`, () => {
    const expected = failClosed ? "fail_closed" : "insufficient_evidence";
    expect(run(block("probably fine"))).toMatchObject({ verdict: expected, model_verdict: "unrecognised" });
    expect(run("I think it is fine.")).toMatchObject({ verdict: expected, model_verdict: null });
  });

  it("a structured submit_verdict follows the same table", () => {
    const viaTool = (verdict: string) =>
      resolveVerdict({
        outputText: "",
        toolCalls: [{ name: "submit_verdict", input: { verdict } }],
        failClosed,
      });
    expect(viaTool("pass").verdict).toBe("pass");
    expect(viaTool("insufficient_evidence").verdict).toBe(
      failClosed ? "fail_closed" : "insufficient_evidence",
    );
    expect(viaTool("maybe")).toMatchObject({
      verdict: failClosed ? "fail_closed" : "insufficient_evidence",
      model_verdict: "unrecognised",
    });
  });
});

describe("applyFailClosed", () => {
  it("only changes answers short of a decision", () => {
    expect(applyFailClosed(null, true)).toBe("fail_closed");
    expect(applyFailClosed("unrecognised", false)).toBe("insufficient_evidence");
    expect(applyFailClosed("fail_closed", false)).toBe("fail_closed");
  });
});

describe("verdict line tolerance", () => {
  it.each([
    ["VERDICT: pass", "pass"],
    ["**VERDICT:** pass", "pass"],
    ["**VERDICT**: **PASS**", "pass"],
    ["VERDICT: `pass_with_restrictions`", "pass_with_restrictions"],
    ["Verdict: pass.", "pass"],
    ["VERDICT: pass,", "pass"],
    ["VERDICT: FAIL_CLOSED!", "fail_closed"],
    ["VERDICT: fail closed", "fail_closed"],
    ["VERDICT: pass-with-restrictions", "pass_with_restrictions"],
    ["VERDICT: insufficient evidence", "insufficient_evidence"],
    ["## VERDICT: pass", "pass"],
    ["- VERDICT: pass — all checks hold", "pass"],
    ["> VERDICT: *fail*", "fail_closed"],
    ["VERDICT: [pass]", "pass"],
    ["VERDICT: passed", "pass"],
    ["VERDICT:\n\n**pass**", "pass"],
  ])("%j → %s", (text, expected) => {
    expect(parseVerdictText(text).model_verdict).toBe(expected);
  });

  it.each([
    "VERDICT: <pass | fail_closed>",
    "VERDICT: pass or fail",
    "VERDICT: pass/fail",
    "VERDICT: passable",
    "VERDICT: pass_or_fail",
    "VERDICT: maybe",
    "VERDICT:",
  ])("%j is unrecognised", (text) => {
    expect(parseVerdictText(text).model_verdict).toBe("unrecognised");
  });

  it("matches the label as a whole word at the start of a line", () => {
    expect(parseVerdictText("FINAL_VERDICT: pass").model_verdict).toBeNull();
    expect(parseVerdictText("VERDICTS: pass").model_verdict).toBeNull();
    expect(parseVerdictText("The expected VERDICT: pass line").model_verdict).toBeNull();
  });

  it("takes the last VERDICT line (the final answer, not a restated template)", () => {
    const text = "Format: VERDICT lines look like\nVERDICT: <value>\n...analysis...\nVERDICT: pass\n";
    expect(parseVerdictText(text)).toMatchObject({ model_verdict: "pass", raw_verdict: "pass" });
    expect(parseVerdictText("VERDICT: pass\nOn reflection:\nVERDICT: fail").model_verdict).toBe(
      "fail_closed",
    );
    expect(parseVerdictText("VERDICT: pass\nVERDICT: nonsense").model_verdict).toBe("unrecognised");
  });

  it("normalizeVerdictWord maps aliases and rejects run-on words", () => {
    expect(normalizeVerdictWord("Insufficient")).toBe("insufficient_evidence");
    expect(normalizeVerdictWord("pass-through")).toBeNull();
  });
});

describe("list parsing", () => {
  it("reads -, *, • and numbered bullets, trimmed, empties dropped", () => {
    const text = [
      "VERDICT: pass_with_restrictions",
      "FINDINGS:",
      "- first",
      "*   second  ",
      "• third",
      "1. fourth",
      "2) fifth",
      "-",
      "",
      "- after a blank line",
      "CONTRADICTIONS:",
      "MISSING_EVIDENCE:",
      "  - indented item",
      "RESTRICTIONS:",
      "- only covers a.md",
    ].join("\n");
    expect(parseVerdictText(text)).toEqual({
      model_verdict: "pass_with_restrictions",
      raw_verdict: "pass_with_restrictions",
      findings: ["first", "second", "third", "fourth", "fifth", "after a blank line"],
      contradictions: [],
      missing_evidence: ["indented item"],
      restrictions: ["only covers a.md"],
    });
  });

  it("strips a bullet from an inline item but keeps numbers and bold text", () => {
    expect(parseVerdictText("FINDINGS: - only item").findings).toEqual(["only item"]);
    expect(parseVerdictText("FINDINGS: 1.5 s latency").findings).toEqual(["1.5 s latency"]);
    expect(parseVerdictText("FINDINGS: **bold** claim").findings).toEqual(["**bold** claim"]);
    expect(parseVerdictText("FINDINGS:\n1.5 s latency\n").findings).toEqual([]);
  });

  it("accepts an inline item after the label and markdown around the label", () => {
    const r = parseVerdictText("**FINDINGS:** the file exists\n- and is valid\n**Restrictions**: none\n");
    expect(r.findings).toEqual(["the file exists", "and is valid"]);
    expect(r.restrictions).toEqual([]);
  });

  it("drops placeholder items such as none / N/A", () => {
    const r = parseVerdictText("CONTRADICTIONS:\n- None.\n- N/A\n- (none)\nMISSING_EVIDENCE: none");
    expect(r.contradictions).toEqual([]);
    expect(r.missing_evidence).toEqual([]);
  });

  it("joins an indented wrapped line onto the previous item", () => {
    const r = parseVerdictText("FINDINGS:\n- a long finding that\n  wraps onto a second line\n- next\n");
    expect(r.findings).toEqual(["a long finding that wraps onto a second line", "next"]);
  });

  it("stops at prose and matches labels only as whole words", () => {
    const r = parseVerdictText(
      "KEY_FINDINGS:\n- not a finding\nFINDINGS:\n- real\nSummary follows.\n- stray bullet",
    );
    expect(r.findings).toEqual(["real"]);
  });

  it("accepts MISSING EVIDENCE spelled with a space and uses the last occurrence of a label", () => {
    const r = parseVerdictText(
      "FINDINGS:\n- draft\n\nVERDICT: pass\nFINDINGS:\n- final\nMISSING EVIDENCE:\n- logs",
    );
    expect(r.findings).toEqual(["final"]);
    expect(r.missing_evidence).toEqual(["logs"]);
  });

  it("handles CRLF line endings", () => {
    const r = parseVerdictText("VERDICT: pass\r\nFINDINGS:\r\n- one\r\n- two\r\n");
    expect(r).toMatchObject({ model_verdict: "pass", findings: ["one", "two"] });
  });
});

describe("hasAnswer", () => {
  it("blank text is no answer unless submit_verdict was called", () => {
    expect(hasAnswer({ outputText: "  \n" })).toBe(false);
    expect(hasAnswer({ outputText: "", toolCalls: [{ name: "read_file", input: {} }] })).toBe(false);
    expect(hasAnswer({ outputText: "", toolCalls: [{ name: "submit_verdict", input: {} }] })).toBe(true);
    expect(hasAnswer({ outputText: "VERDICT: pass" })).toBe(true);
  });
});

describe("submit_verdict", () => {
  it("offers the tool schema with a verdict enum and four string arrays", () => {
    expect(SUBMIT_VERDICT_TOOL.name).toBe("submit_verdict");
    const schema = SUBMIT_VERDICT_TOOL.input_schema;
    expect(schema.properties.verdict.enum).toEqual([
      "pass",
      "pass_with_restrictions",
      "fail_closed",
      "insufficient_evidence",
    ]);
    for (const key of ["findings", "contradictions", "missing_evidence", "restrictions"] as const) {
      expect(schema.properties[key]).toMatchObject({ type: "array", items: { type: "string" } });
    }
  });

  it("validates and normalises a tool input", () => {
    expect(
      fromSubmitVerdict({
        verdict: "PASS",
        findings: ["  ok ", ""],
        restrictions: "only a.md",
        contradictions: [],
      }),
    ).toEqual({
      ok: true,
      value: {
        verdict: "pass",
        findings: ["ok"],
        contradictions: [],
        missing_evidence: [],
        restrictions: ["only a.md"],
      },
    });
  });

  it("rejects bad input with a message naming the field", () => {
    const bad = fromSubmitVerdict({ verdict: "maybe" });
    expect(bad).toMatchObject({ ok: false });
    expect(!bad.ok && bad.error).toMatch(/verdict/);
    const badList = fromSubmitVerdict({ verdict: "pass", findings: [1] });
    expect(!badList.ok && badList.error).toMatch(/findings/);
    expect(fromSubmitVerdict(null).ok).toBe(false);
  });

  it("prefers the last valid tool call over the text", () => {
    const r = resolveVerdict({
      outputText: "VERDICT: fail\nFINDINGS:\n- from text",
      toolCalls: [
        { name: "read_file", input: { path: "a" } },
        { name: "submit_verdict", input: { verdict: "fail_closed", findings: ["first"] } },
        { name: "submit_verdict", input: { verdict: "pass", findings: ["second"] } },
        { name: "submit_verdict", input: { verdict: "bogus" } },
      ],
      failClosed: true,
    });
    expect(r).toEqual({
      verdict: "pass",
      model_verdict: "pass",
      source: "submit_verdict",
      findings: ["second"],
      contradictions: [],
      missing_evidence: [],
      restrictions: [],
    });
  });

  it("falls back to the text when every tool call is invalid", () => {
    const r = resolveVerdict({
      outputText: "VERDICT: pass\nFINDINGS:\n- from text",
      toolCalls: [{ name: "submit_verdict", input: { verdict: "bogus" } }],
      failClosed: true,
    });
    expect(r).toMatchObject({ verdict: "pass", source: "text", findings: ["from text"] });
  });

  it("as an AgentTool acknowledges valid input and returns is_error for invalid input", async () => {
    const tool = submitVerdictAgentTool();
    expect(tool).toMatchObject({ name: "submit_verdict", readOnly: true });
    const ctx = { signal: new AbortController().signal, sessionId: "s", turnIndex: 0 };
    expect(await tool.call({ verdict: "pass" }, ctx)).toMatchObject({ isError: false });
    const bad = await tool.call({ verdict: "x" }, ctx);
    expect(bad.isError).toBe(true);
    expect(bad.content).toMatch(/verdict/);
  });
});
