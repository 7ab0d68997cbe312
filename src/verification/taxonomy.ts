// The v1.1.1 verification vocabulary: verdicts, reason codes, operator guidance, and the mapping
// from (verdict, preflight) to the structured assessment fields of the verify result.
// Enum values are the original's public contract; guidance wording is ours, but counts and the
// keywords an orchestrator (and the upstream tests) rely on are kept.

export const VERDICTS = ["pass", "pass_with_restrictions", "fail_closed", "insufficient_evidence"] as const;
export type Verdict = (typeof VERDICTS)[number];

export const DECISIONS = ["verified", "not_verified", "inconclusive", "unavailable"] as const;
export type Decision = (typeof DECISIONS)[number];

export const REASON_CODES = [
  "sufficient_evidence",
  "insufficient_evidence",
  "scope_too_broad",
  "out_of_profile_request",
  "restricted_mode_mismatch",
  "missing_required_context",
  "non_verifiable_request",
  "ambiguous_request",
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

export const EVIDENCE_SUFFICIENCY = ["sufficient", "partial", "insufficient"] as const;
export type EvidenceSufficiency = (typeof EVIDENCE_SUFFICIENCY)[number];

export const SCOPE_ASSESSMENTS = ["narrow", "acceptable", "broad", "too_broad"] as const;
export type ScopeAssessment = (typeof SCOPE_ASSESSMENTS)[number];

export const PROFILE_ALIGNMENTS = ["in_profile", "out_of_profile", "restricted_mode_mismatch"] as const;
export type ProfileAlignment = (typeof PROFILE_ALIGNMENTS)[number];

/** Actionable hints per reason code, in the order they are shown to an operator. */
export const OPERATOR_GUIDANCE: Readonly<Record<ReasonCode, readonly string[]>> = {
  sufficient_evidence: ["Evidence supports the claim. Review the findings for any noted restrictions."],
  insufficient_evidence: [
    "Provide the target artifact, the expected outcome, or a bounded evidence source.",
    "Narrow the scope to a specific file, function, or observable claim.",
  ],
  scope_too_broad: [
    "Narrow the request to one artifact, one claim, or one verification objective.",
    'Example: "Verify whether <specific file> satisfies <specific condition>".',
  ],
  out_of_profile_request: [
    "This request exceeds the verification profile, which is read-only.",
    "Handle execution-oriented requests (create, fix, run, ...) with agent_run_task instead.",
  ],
  restricted_mode_mismatch: [
    "The active APNTalk verification mode only permits bounded advisory verification tasks.",
    "Reframe the request as a specific, observable claim to verify against existing evidence.",
  ],
  missing_required_context: [
    "Specify the target artifact, evidence path, or expected state to verify against.",
    "Include at least one concrete named subject for the verification claim.",
  ],
  non_verifiable_request: [
    "This request cannot be answered through passive evidence review.",
    "Restrict the request to observable properties of existing artifacts.",
  ],
  ambiguous_request: [
    "Clarify the verification objective with a single, specific claim.",
    "Specify what passing looks like and which artifact is the subject.",
  ],
};

/** Guidance for several codes, in code order, each string once (codes overlap in advice). */
export function collectOperatorGuidance(codes: readonly ReasonCode[]): string[] {
  const out: string[] = [];
  for (const code of codes) {
    for (const hint of OPERATOR_GUIDANCE[code]) if (!out.includes(hint)) out.push(hint);
  }
  return out;
}

/** The assessment fields of a verify result, in result key order. */
export interface Assessment {
  decision: Decision;
  primary_reason: ReasonCode;
  reason_codes: ReasonCode[];
  operator_guidance: string[];
  evidence_sufficiency: EvidenceSufficiency;
  scope_assessment: ScopeAssessment;
  profile_alignment: ProfileAlignment;
}

/** The part of a preflight result the assessment depends on (null = no preflight could run). */
export type PreflightLint = { lint_codes: readonly ReasonCode[] } | null;

const VERDICT_ASSESSMENT: Record<Verdict, [Decision, ReasonCode, EvidenceSufficiency]> = {
  pass: ["verified", "sufficient_evidence", "sufficient"],
  pass_with_restrictions: ["verified", "sufficient_evidence", "partial"],
  fail_closed: ["not_verified", "insufficient_evidence", "insufficient"],
  insufficient_evidence: ["inconclusive", "insufficient_evidence", "insufficient"],
};

/** Scope assessment is derived from the request alone, so every verify path can report it. */
export function scopeAssessment(preflight: PreflightLint): ScopeAssessment {
  const codes = preflight?.lint_codes ?? [];
  if (codes.includes("scope_too_broad")) return "too_broad";
  if (codes.includes("ambiguous_request")) return "broad";
  return codes.length > 0 ? "acceptable" : "narrow";
}

/** Profile alignment is derived from the request alone, so every verify path can report it. */
export function profileAlignment(preflight: PreflightLint): ProfileAlignment {
  const codes = preflight?.lint_codes ?? [];
  if (codes.includes("restricted_mode_mismatch")) return "restricted_mode_mismatch";
  if (codes.includes("out_of_profile_request")) return "out_of_profile";
  return "in_profile";
}

/**
 * Map a final verdict and the request's preflight to the structured fields. Request-quality codes
 * come first and win primary_reason: they are what an operator can act on.
 */
export function assess(verdict: Verdict, preflight: PreflightLint): Assessment {
  const lint = [...(preflight?.lint_codes ?? [])];
  const [decision, evidenceReason, sufficiency] = VERDICT_ASSESSMENT[verdict];
  const reasonCodes = lint.includes(evidenceReason) ? lint : [...lint, evidenceReason];
  return {
    decision,
    primary_reason: lint[0] ?? evidenceReason,
    reason_codes: reasonCodes,
    operator_guidance: collectOperatorGuidance(reasonCodes),
    evidence_sufficiency: sufficiency,
    scope_assessment: scopeAssessment(preflight),
    profile_alignment: profileAlignment(preflight),
  };
}

/**
 * Assessment when the backend could not produce a usable answer (v1.1.2): no verification took
 * place, so the reason is always insufficient_evidence whatever the request looked like.
 */
export function assessUnavailable(preflight: PreflightLint): Assessment {
  return {
    decision: "unavailable",
    primary_reason: "insufficient_evidence",
    reason_codes: ["insufficient_evidence"],
    operator_guidance: collectOperatorGuidance(["insufficient_evidence"]),
    evidence_sufficiency: "insufficient",
    scope_assessment: scopeAssessment(preflight),
    profile_alignment: profileAlignment(preflight),
  };
}
