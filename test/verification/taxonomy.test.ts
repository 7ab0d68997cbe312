import { describe, expect, it } from "vitest";
import { runPreflight } from "../../src/verification/preflight.js";
import {
  assess,
  assessUnavailable,
  collectOperatorGuidance,
  OPERATOR_GUIDANCE,
  REASON_CODES,
} from "../../src/verification/taxonomy.js";

describe("operator guidance catalogue (upstream-core.md §7.7)", () => {
  it("has the original's number of strings per code", () => {
    const counts = Object.fromEntries(REASON_CODES.map((c) => [c, OPERATOR_GUIDANCE[c].length]));
    expect(counts).toEqual({
      sufficient_evidence: 1,
      insufficient_evidence: 2,
      scope_too_broad: 2,
      out_of_profile_request: 2,
      restricted_mode_mismatch: 2,
      missing_required_context: 2,
      non_verifiable_request: 2,
      ambiguous_request: 2,
    });
  });

  it("keeps the keywords orchestrators look for", () => {
    expect(OPERATOR_GUIDANCE.insufficient_evidence.join(" ")).toMatch(/artifact|evidence/i);
    expect(OPERATOR_GUIDANCE.scope_too_broad.join(" ")).toMatch(/narrow/i);
    expect(OPERATOR_GUIDANCE.restricted_mode_mismatch.join(" ")).toMatch(/apntalk|advisory|bounded/i);
    for (const code of REASON_CODES)
      for (const s of OPERATOR_GUIDANCE[code]) expect(s.length).toBeGreaterThan(10);
  });

  it("collects guidance in code order without duplicates", () => {
    const g = collectOperatorGuidance(["scope_too_broad", "insufficient_evidence", "scope_too_broad"]);
    expect(g).toEqual([...OPERATOR_GUIDANCE.scope_too_broad, ...OPERATOR_GUIDANCE.insufficient_evidence]);
  });
});

describe("assessment mapping", () => {
  const clean = { lint_codes: [] };

  it.each([
    ["pass", "verified", "sufficient_evidence", "sufficient"],
    ["pass_with_restrictions", "verified", "sufficient_evidence", "partial"],
    ["fail_closed", "not_verified", "insufficient_evidence", "insufficient"],
    ["insufficient_evidence", "inconclusive", "insufficient_evidence", "insufficient"],
  ] as const)("%s → %s / %s / %s", (verdict, decision, reason, sufficiency) => {
    expect(assess(verdict, clean)).toEqual({
      decision,
      primary_reason: reason,
      reason_codes: [reason],
      operator_guidance: OPERATOR_GUIDANCE[reason],
      evidence_sufficiency: sufficiency,
      scope_assessment: "narrow",
      profile_alignment: "in_profile",
    });
  });

  it("puts lint codes first; the first one is the primary reason", () => {
    const pf = runPreflight({ task: "Fix the authentication module" });
    const a = assess("pass", pf);
    expect(a.primary_reason).toBe("out_of_profile_request");
    expect(a.reason_codes).toEqual([
      "out_of_profile_request",
      "scope_too_broad",
      "missing_required_context",
      "sufficient_evidence",
    ]);
    expect(a.scope_assessment).toBe("too_broad");
    expect(a.profile_alignment).toBe("out_of_profile");
    expect(a.operator_guidance).toEqual(collectOperatorGuidance(a.reason_codes));
  });

  it("derives scope assessment: ambiguous → broad, other lint → acceptable", () => {
    expect(assess("pass", runPreflight({ task: "Verify the report" })).scope_assessment).toBe("broad");
    expect(assess("pass", { lint_codes: ["missing_required_context"] }).scope_assessment).toBe("acceptable");
    expect(assess("pass", { lint_codes: ["restricted_mode_mismatch"] }).profile_alignment).toBe(
      "restricted_mode_mismatch",
    );
  });

  it("does not repeat the evidence reason and tolerates a missing preflight", () => {
    expect(assess("fail_closed", { lint_codes: ["insufficient_evidence"] }).reason_codes).toEqual([
      "insufficient_evidence",
    ]);
    expect(assess("pass", null)).toMatchObject({
      scope_assessment: "narrow",
      profile_alignment: "in_profile",
    });
  });

  it("an unavailable outcome always reports insufficient_evidence but keeps the request's scope", () => {
    expect(assessUnavailable(runPreflight({ task: "Check everything in the whole system" }))).toEqual({
      decision: "unavailable",
      primary_reason: "insufficient_evidence",
      reason_codes: ["insufficient_evidence"],
      operator_guidance: OPERATOR_GUIDANCE.insufficient_evidence,
      evidence_sufficiency: "insufficient",
      scope_assessment: "too_broad",
      profile_alignment: "in_profile",
    });
  });
});
