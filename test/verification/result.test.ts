import { describe, expect, it } from "vitest";
import { BackendError } from "../../src/backends/backend.js";
import { runPreflight } from "../../src/verification/preflight.js";
import {
  classifyFailure,
  emptyMetrics,
  emptyOutputFailure,
  failedRunOutcome,
  missingEvidenceOutcome,
  refusedEvidenceOutcome,
  rejectedOutcome,
  unavailableOutcome,
  type VerifyOutcome,
  verifiedOutcome,
} from "../../src/verification/result.js";
import { OPERATOR_GUIDANCE } from "../../src/verification/taxonomy.js";
import { resolveVerdict } from "../../src/verification/verdict.js";

// upstream-core.md §7.4 order, then the port's additions.
const KEYS = [
  "verdict",
  "findings",
  "contradictions",
  "missing_evidence",
  "restrictions",
  "decision",
  "primary_reason",
  "reason_codes",
  "operator_guidance",
  "evidence_sufficiency",
  "scope_assessment",
  "profile_alignment",
  "outcome_kind",
  "failure_class",
  "failure_code",
  "retryable",
  "fallback_recommended",
  "verification_performed",
  "metrics",
  "model_verdict",
  "evidence",
];

const preflight = runPreflight({
  task: "Verify whether out.json has a name field",
  evidence_paths: ["out.json"],
});
const metrics = emptyMetrics("api", "claude-test");
const evidence = [{ path: "out.json", exists: true, bytes: 12, sha256: "ab".repeat(32) }];
const ctx = { preflight, metrics, evidence };

function expectShape(o: VerifyOutcome) {
  expect(Object.keys(o.result)).toEqual(KEYS);
  expect(Object.keys(o.result.metrics)).toEqual([
    "backend",
    "model",
    "turns",
    "duration_ms",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "stop_reason",
  ]);
}

describe("verify result on every path", () => {
  it("parsed answer: ok, performed, summary counts findings", () => {
    const verdict = resolveVerdict({
      outputText: "VERDICT: pass\nFINDINGS:\n- has name\n- valid JSON\n",
      failClosed: true,
    });
    const o = verifiedOutcome({ ...ctx, verdict, warnings: ["w"] });
    expectShape(o);
    expect(o).toMatchObject({
      ok: true,
      summary: "Verification pass: 2 finding(s)",
      errors: [],
      warnings: ["w"],
    });
    expect(o.result).toMatchObject({
      verdict: "pass",
      findings: ["has name", "valid JSON"],
      decision: "verified",
      outcome_kind: "verified",
      failure_class: null,
      failure_code: null,
      retryable: false,
      fallback_recommended: false,
      verification_performed: true,
      model_verdict: "pass",
      evidence,
      metrics,
    });
  });

  it("a parsed fail_closed verdict is still ok:true (the verification ran)", () => {
    const verdict = resolveVerdict({ outputText: "no verdict here", failClosed: true });
    const o = verifiedOutcome({ ...ctx, verdict });
    expect(o.ok).toBe(true);
    expect(o.result).toMatchObject({ verdict: "fail_closed", decision: "not_verified", model_verdict: null });
  });

  it("missing evidence: early fail_closed, one error per path, not performed", () => {
    const o = missingEvidenceOutcome({ ...ctx, missing: ["a.txt", "b.txt"] });
    expectShape(o);
    expect(o).toMatchObject({ ok: false, summary: "Verification fail_closed", warnings: [] });
    expect(o.errors).toEqual([
      { code: "missing_evidence", message: "Evidence path not found: a.txt" },
      { code: "missing_evidence", message: "Evidence path not found: b.txt" },
    ]);
    expect(o.result).toMatchObject({
      verdict: "fail_closed",
      decision: "not_verified",
      outcome_kind: "not_verified",
      evidence_sufficiency: "insufficient",
      primary_reason: "insufficient_evidence",
      verification_performed: false,
      failure_class: null,
      model_verdict: null,
    });
  });

  it("validation and policy errors keep the full shape", () => {
    const v = rejectedOutcome({
      preflight: null,
      metrics,
      code: "validation_error",
      message: "task: required",
    });
    expectShape(v);
    expect(v).toMatchObject({ ok: false, summary: "task: required", errors: [{ code: "validation_error" }] });
    expect(v.result).toMatchObject({ verdict: "fail_closed", evidence: [], verification_performed: false });
    const p = rejectedOutcome({ ...ctx, code: "policy_denied", message: "outside", details: { path: "x" } });
    expectShape(p);
    expect(p.errors).toEqual([{ code: "policy_denied", message: "outside", details: { path: "x" } }]);
  });

  it("a classified backend error becomes unavailable with its failure fields", () => {
    const err = new BackendError(
      "provider_runtime_error",
      "429 rate limited",
      "backend_limit_reached",
      "api_rate_limited",
    );
    const o = unavailableOutcome({ ...ctx, failure: classifyFailure(err, "api") });
    expectShape(o);
    expect(o).toMatchObject({ ok: false, summary: "Verification unavailable: 429 rate limited" });
    expect(o.errors).toEqual([
      {
        code: "api_rate_limited",
        message: "429 rate limited",
        details: {
          failure_class: "backend_limit_reached",
          failure_code: "api_rate_limited",
          retryable: true,
          fallback_recommended: true,
        },
      },
    ]);
    expect(o.result).toMatchObject({
      verdict: "fail_closed",
      decision: "unavailable",
      outcome_kind: "unavailable",
      primary_reason: "insufficient_evidence",
      reason_codes: ["insufficient_evidence"],
      operator_guidance: OPERATOR_GUIDANCE.insufficient_evidence,
      failure_class: "backend_limit_reached",
      failure_code: "api_rate_limited",
      retryable: true,
      fallback_recommended: true,
      verification_performed: false,
    });
  });

  it.each([
    ["api", "api_empty_response"],
    ["claude_code", "claude_code_empty_response"],
  ] as const)("empty output on %s → %s, retryable", (backend, code) => {
    const f = emptyOutputFailure(backend);
    expect(f).toMatchObject({
      failure_class: "backend_unusable_response",
      failure_code: code,
      retryable: true,
    });
    expect(f.summary).toMatch(/empty|blank/i);
    const o = unavailableOutcome({ ...ctx, failure: f });
    expectShape(o);
    expect(o.result.failure_code).toBe(code);
  });

  it("failedRunOutcome: uses failure details, classifies bare errors, keeps aborts as rejections", () => {
    const withDetails = failedRunOutcome({
      ...ctx,
      backend: "claude_code",
      error: {
        code: "claude_code_invocation_error",
        message: "claude CLI timed out after 5s",
        details: {
          failure_class: "backend_timeout",
          failure_code: "claude_code_timeout",
          retryable: true,
          fallback_recommended: true,
        },
      },
    });
    expect(withDetails.result).toMatchObject({
      outcome_kind: "unavailable",
      failure_code: "claude_code_timeout",
    });
    const bare = failedRunOutcome({
      ...ctx,
      backend: "api",
      error: { code: "provider_runtime_error", message: "fetch failed" },
    });
    expect(bare.result).toMatchObject({ failure_code: "api_connection_error", retryable: true });
    const cancelled = failedRunOutcome({
      ...ctx,
      backend: "api",
      error: { code: "run_cancelled", message: "The run was cancelled" },
    });
    expectShape(cancelled);
    expect(cancelled.result).toMatchObject({ outcome_kind: "not_verified", failure_class: null });
    expect(cancelled.errors[0]!.code).toBe("run_cancelled");
  });
});

describe("classifyFailure", () => {
  it("passes a BackendError's classification through", () => {
    const err = new BackendError("x", "boom", "backend_auth_failure", "api_auth_failed");
    expect(classifyFailure(err, "claude_code")).toEqual({
      failure_class: "backend_auth_failure",
      failure_code: "api_auth_failed",
      retryable: false,
      fallback_recommended: true,
      summary: "boom",
    });
  });

  describe("claude_code keyword table (upstream §7.8)", () => {
    it.each([
      ["claude CLI timed out after 180s", "backend_timeout", "claude_code_timeout", true],
      ["Error: not logged in", "backend_auth_failure", "claude_code_not_authenticated", false],
      ["token expired, run claude login", "backend_auth_failure", "claude_code_not_authenticated", false],
      ["credentials missing", "backend_auth_failure", "claude_code_not_authenticated", false],
      ["auth rate limit exceeded", "backend_auth_failure", "claude_code_not_authenticated", false],
      ["rate limit exceeded", "backend_limit_reached", "claude_code_limit_reached", true],
      ["usage quota exceeded", "backend_limit_reached", "claude_code_limit_reached", true],
      ["monthly usage cap reached", "backend_limit_reached", "claude_code_limit_reached", true],
      ["daily limit reached", "backend_limit_reached", "claude_code_limit_reached", true],
      ["spawn claude ENOENT", "backend_unavailable", "claude_code_not_installed", false],
      ["exit code 2: something odd", "backend_invocation_error", "claude_code_process_error", false],
    ] as const)("%j → %s / %s", (message, cls, code, retryable) => {
      const f = classifyFailure(new Error(message), "claude_code");
      expect(f).toMatchObject({
        failure_class: cls,
        failure_code: code,
        retryable,
        fallback_recommended: true,
      });
    });

    it("summaries say what happened", () => {
      expect(classifyFailure(new Error("spawn claude ENOENT"), "claude_code").summary).toMatch(
        /claude|path/i,
      );
      expect(classifyFailure(new Error("timed out"), "claude_code").summary).toMatch(/time/i);
      const unknown = classifyFailure(new Error(`weird failure ${"x".repeat(200)}`), "claude_code");
      expect(unknown.summary).toContain("weird failure");
      expect(unknown.summary.length).toBeLessThan(200);
    });

    it("uses error properties: execa's timedOut, ENOENT code, JSON SyntaxError", () => {
      expect(
        classifyFailure(Object.assign(new Error("x"), { timedOut: true }), "claude_code").failure_code,
      ).toBe("claude_code_timeout");
      expect(
        classifyFailure(Object.assign(new Error("x"), { code: "ENOENT" }), "claude_code").failure_code,
      ).toBe("claude_code_not_installed");
      expect(classifyFailure(new SyntaxError("Unexpected token"), "claude_code").failure_code).toBe(
        "claude_code_unparseable_response",
      );
      expect(classifyFailure("plain string", "claude_code").failure_code).toBe("claude_code_process_error");
    });
  });

  describe("api backend", () => {
    const sdkError = (name: string, status: number | undefined, message: string) =>
      Object.assign(new Error(message), { name, status });

    it.each([
      [
        sdkError("AuthenticationError", 401, "invalid x-api-key"),
        "backend_auth_failure",
        "api_auth_failed",
        false,
      ],
      [sdkError("PermissionDeniedError", 403, "forbidden"), "backend_auth_failure", "api_auth_failed", false],
      [
        sdkError("RateLimitError", 429, "rate_limit_error"),
        "backend_limit_reached",
        "api_rate_limited",
        true,
      ],
      [sdkError("InternalServerError", 529, "Overloaded"), "backend_unavailable", "api_overloaded", true],
      [sdkError("InternalServerError", 500, "server error"), "backend_unavailable", "api_overloaded", true],
      [
        sdkError("APIConnectionTimeoutError", undefined, "Request timed out."),
        "backend_timeout",
        "api_timeout",
        true,
      ],
      [
        sdkError("APIConnectionError", undefined, "Connection error."),
        "backend_unavailable",
        "api_connection_error",
        true,
      ],
      [
        sdkError("BadRequestError", 400, "max_tokens too large"),
        "backend_invocation_error",
        "api_bad_request",
        false,
      ],
      [
        sdkError("NotFoundError", 404, "model not found"),
        "backend_invocation_error",
        "api_bad_request",
        false,
      ],
      [new Error("request timeout"), "backend_timeout", "api_timeout", true],
      [new Error("Overloaded"), "backend_unavailable", "api_overloaded", true],
      [new Error("fetch failed"), "backend_unavailable", "api_connection_error", true],
      [new Error("something else"), "backend_invocation_error", "api_bad_request", false],
    ] as const)("%s → %s / %s", (err, cls, code, retryable) => {
      expect(classifyFailure(err, "api")).toMatchObject({
        failure_class: cls,
        failure_code: code,
        retryable,
        fallback_recommended: true,
      });
    });

    it("keeps the message of an unexpected error, bounded", () => {
      const f = classifyFailure(new Error("odd thing happened"), "api");
      expect(f.summary).toContain("odd thing happened");
    });
  });
});

describe("refused evidence", () => {
  it("one policy_denied error per refused path, full shape", () => {
    const o = refusedEvidenceOutcome({
      ...ctx,
      refused: [
        { path: "/etc/passwd", denial: "Path '/etc/passwd' is outside the allowed directories (/w)" },
        { path: "x", denial: null },
      ],
    });
    expectShape(o);
    expect(o).toMatchObject({
      ok: false,
      summary: "Path '/etc/passwd' is outside the allowed directories (/w)",
    });
    expect(o.errors).toEqual([
      { code: "policy_denied", message: "Path '/etc/passwd' is outside the allowed directories (/w)" },
      { code: "policy_denied", message: "Evidence path 'x' is outside the allowed directories" },
    ]);
    expect(o.result).toMatchObject({
      verdict: "fail_closed",
      verification_performed: false,
      failure_class: null,
    });
  });
});
