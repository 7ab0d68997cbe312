import { describe, expect, it } from "vitest";
import { analyzeRequestShape, runPreflight } from "../../src/verification/preflight.js";
import { OPERATOR_GUIDANCE } from "../../src/verification/taxonomy.js";

const lint = (task: string, scope?: string, evidence_paths?: string[]) =>
  runPreflight({ task, scope, evidence_paths }).lint_codes;

describe("preflight vectors (upstream-core.md §7.6)", () => {
  it("a targeted request with its evidence path is clean", () => {
    expect(
      lint("Verify whether /data/output.json matches the expected schema", undefined, ["/data/output.json"]),
    ).toEqual([]);
  });

  it.each(["Verify the report", "Is it correct?", "Verify foo"])(
    "%s → ambiguous + missing context",
    (task) => {
      expect(lint(task)).toEqual(["ambiguous_request", "missing_required_context"]);
    },
  );

  it.each([
    "Check everything in the whole system",
    "Review the whole system.",
    "Validate the entire repo.",
    "Tell me if everything is safe.",
  ])("%s → scope_too_broad + missing context", (task) => {
    expect(lint(task)).toEqual(["scope_too_broad", "missing_required_context"]);
  });

  it("an execution request is out of profile, too broad and untargeted", () => {
    const r = runPreflight({ task: "Fix the authentication module" });
    expect(r.lint_codes).toEqual(["out_of_profile_request", "scope_too_broad", "missing_required_context"]);
    expect(r.ok).toBe(true); // standard mode never blocks
  });

  it("two asks joined by 'and also' score 1 but have targets → clean", () => {
    const input = { task: "Verify config.yaml and also check that main.py exists" };
    const shape = analyzeRequestShape(input);
    expect(shape.breadth_score).toBe(1);
    expect(shape.detected_risks).toEqual(["multiple verification objectives detected"]);
    expect(shape.detected_targets).toEqual(["config.yaml", "main.py"]);
    expect(shape.is_narrow).toBe(true);
    expect(lint(input.task)).toEqual([]);
  });
});

describe("request shape signals", () => {
  it("reproduces the original's target quirks", () => {
    expect(
      analyzeRequestShape({ task: "Verify the module", scope: "src/module.py" }).detected_targets,
    ).toEqual(["/module.py"]);
    expect(analyzeRequestShape({ task: "Check release 1.1 notes" }).detected_targets).toEqual(["1.1"]);
  });

  it("counts quoted claims of 4+ chars and the first five evidence paths, deduplicated, capped at 8", () => {
    const shape = analyzeRequestShape({
      task: 'Confirm the log says "all tests green" and "ok"',
      evidence_paths: ["a.log", "b.log", "c.log", "d.log", "e.log", "f.log"],
    });
    expect(shape.detected_targets).toEqual([
      '"all tests green"',
      "a.log",
      "b.log",
      "c.log",
      "d.log",
      "e.log",
    ]);
    const many = analyzeRequestShape({
      task: "Verify a1.txt a2.txt a3.txt a4.txt a5.txt a6.txt a7.txt a8.txt a9.txt a1.txt",
    });
    expect(many.detected_targets).toHaveLength(8);
    expect(many.detected_targets[0]).toBe("a1.txt");
  });

  it("flags execution verbs in task or scope, listing at most three", () => {
    const shape = analyzeRequestShape({ task: "Please build, run, deploy and install it", scope: "x.py" });
    expect(shape.detected_risks).toContain(
      "execution-oriented language detected: ['build', 'run', 'deploy']",
    );
    // scope verbs count for the score but not for the out_of_profile lint code
    const r = runPreflight({ task: "Verify notes.md", scope: "after the build" });
    expect(r.shape.breadth_score).toBe(1);
    expect(r.lint_codes).toEqual([]);
  });

  it("matches broad phrases and verbs as whole words only", () => {
    expect(analyzeRequestShape({ task: "Verify thesystem.md" }).breadth_score).toBe(0);
    expect(analyzeRequestShape({ task: "Verify the rebuilding of notes.md" }).breadth_score).toBe(0);
    expect(analyzeRequestShape({ task: "Verify the whole repository in x.md" }).detected_risks).toEqual([
      "broad scope language detected",
    ]);
  });

  it("needs 5–60 characters around the joining word for the multiple-objectives signal", () => {
    expect(analyzeRequestShape({ task: "Verify x.md and check y.md" }).breadth_score).toBe(0);
    expect(analyzeRequestShape({ task: "Verify a.md works and check y.md" }).breadth_score).toBe(0);
    expect(analyzeRequestShape({ task: "Verify a.md works and then check y.md" }).breadth_score).toBe(1);
  });

  it("puts the hints of each lint code in order and builds a scope summary", () => {
    const r = runPreflight({ task: "Verify the report" });
    expect(r.hints).toEqual([
      ...OPERATOR_GUIDANCE.ambiguous_request,
      ...OPERATOR_GUIDANCE.missing_required_context,
    ]);
    expect(r.normalized_scope_summary).toBe("Verify the report");
    const long = runPreflight({ task: `Verify ${"x".repeat(90)} in a.md and b.md` });
    expect(long.normalized_scope_summary).toMatch(/^Verify x{73}\.\.\. — targeting: a\.md, b\.md$/);
  });
});
