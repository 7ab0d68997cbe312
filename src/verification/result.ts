// The verify_task result: the full v1.1.2 field list (upstream-core.md §7.4, key order exact)
// plus `metrics`, `model_verdict` and `evidence`, built the same way on every path — parsed
// answer, missing evidence, rejected request, backend failure, empty output — so an orchestrator
// never has to guess which fields exist. Also the v1.1.2 failure classification, extended to the
// api backend (upstream only classified claude_code failures).
import {
  BackendError,
  type FailureClass,
  type FailureDetails,
  RETRYABLE_CLASSES,
} from "../backends/backend.js";
import { AUTH_TOKENS, LIMIT_TOKENS } from "../backends/claude-code/failure.js";
import type { Metrics } from "../sessions/envelope.js";
import type { EvidenceEntry, EvidenceFile } from "./evidence.js";
import { type Assessment, assess, assessUnavailable, type PreflightLint, type Verdict } from "./taxonomy.js";
import type { ModelVerdict, ResolvedVerdict, VerdictLists } from "./verdict.js";

export type BackendName = "api" | "claude_code";

/** Normalised run metrics: the same block run/continue results carry. */
export type VerifyMetrics = Metrics;

export interface VerifyResult extends VerdictLists, Assessment {
  verdict: Verdict;
  outcome_kind: Assessment["decision"];
  failure_class: FailureClass | null;
  failure_code: string | null;
  retryable: boolean;
  fallback_recommended: boolean;
  verification_performed: boolean;
  metrics: VerifyMetrics;
  model_verdict: ModelVerdict;
  evidence: EvidenceEntry[];
}

export interface VerifyError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** Everything of the envelope a verify path decides; session_id, status, artifacts are the caller's. */
export interface VerifyOutcome {
  ok: boolean;
  summary: string;
  result: VerifyResult;
  errors: VerifyError[];
  warnings: string[];
}

/** A failure classification: the v1.1.2 fields plus a short operator sentence. */
export interface FailureClassification extends FailureDetails {
  summary: string;
}

/** Inputs every builder needs. `preflight` null = the request was too malformed to lint. */
export interface ResultContext {
  preflight: PreflightLint;
  metrics: VerifyMetrics;
  evidence?: EvidenceEntry[];
}

const NO_LISTS: VerdictLists = { findings: [], contradictions: [], missing_evidence: [], restrictions: [] };

function buildResult(
  verdict: Verdict,
  lists: VerdictLists,
  a: Assessment,
  failure: FailureDetails | null,
  performed: boolean,
  ctx: ResultContext,
  modelVerdict: ModelVerdict,
): VerifyResult {
  return {
    verdict,
    findings: [...lists.findings],
    contradictions: [...lists.contradictions],
    missing_evidence: [...lists.missing_evidence],
    restrictions: [...lists.restrictions],
    decision: a.decision,
    primary_reason: a.primary_reason,
    reason_codes: a.reason_codes,
    operator_guidance: a.operator_guidance,
    evidence_sufficiency: a.evidence_sufficiency,
    scope_assessment: a.scope_assessment,
    profile_alignment: a.profile_alignment,
    outcome_kind: a.decision,
    failure_class: failure?.failure_class ?? null,
    failure_code: failure?.failure_code ?? null,
    retryable: failure?.retryable ?? false,
    fallback_recommended: failure?.fallback_recommended ?? false,
    verification_performed: performed,
    metrics: { ...ctx.metrics },
    model_verdict: modelVerdict,
    evidence: [...(ctx.evidence ?? [])],
  };
}

/** The result of a request refused before (or instead of) a verification: fail_closed, not performed. */
function notPerformed(ctx: ResultContext): VerifyResult {
  return buildResult("fail_closed", NO_LISTS, assess("fail_closed", ctx.preflight), null, false, ctx, null);
}

/** Metrics for paths where no model call happened (or its figures are unknown). */
export function emptyMetrics(backend: string, model: string): VerifyMetrics {
  return {
    backend,
    model,
    turns: 0,
    duration_ms: 0,
    input_tokens: 0,
    output_tokens: 0,
    cost_usd: null,
    stop_reason: null,
  };
}

/**
 * The model answered and the answer was parsed. `ok` is true for every verdict, fail_closed
 * included (as upstream): the verification itself worked; the verdict says how it came out.
 */
export function verifiedOutcome(
  ctx: ResultContext & { verdict: ResolvedVerdict; warnings?: string[] },
): VerifyOutcome {
  const v = ctx.verdict;
  return {
    ok: true,
    summary: `Verification ${v.verdict}: ${v.findings.length} finding(s)`,
    result: buildResult(v.verdict, v, assess(v.verdict, ctx.preflight), null, true, ctx, v.model_verdict),
    errors: [],
    warnings: [...(ctx.warnings ?? [])],
  };
}

/**
 * Evidence paths that do not exist: fail before any session or model call, whatever fail_closed
 * says (CONTRACT.md §11). One missing_evidence error per path.
 */
export function missingEvidenceOutcome(ctx: ResultContext & { missing: readonly string[] }): VerifyOutcome {
  return {
    ok: false,
    summary: "Verification fail_closed",
    result: notPerformed(ctx),
    errors: ctx.missing.map((p) => ({ code: "missing_evidence", message: `Evidence path not found: ${p}` })),
    warnings: [],
  };
}

/**
 * A request refused without a verification (validation_error, policy_denied, a cancelled or
 * interrupted run): fail_closed, not performed, no failure class — it is not a backend outage.
 */
export function rejectedOutcome(
  ctx: ResultContext & {
    code: string;
    message: string;
    details?: Record<string, unknown>;
    warnings?: string[];
  },
): VerifyOutcome {
  const error: VerifyError = { code: ctx.code, message: ctx.message };
  if (ctx.details) error.details = ctx.details;
  return {
    ok: false,
    summary: ctx.message,
    result: notPerformed(ctx),
    errors: [error],
    warnings: [...(ctx.warnings ?? [])],
  };
}

/**
 * Existing evidence paths outside the allowed directories (or escaping them through a symlink):
 * policy_denied before any session, one error per refused path, nothing of them read.
 */
export function refusedEvidenceOutcome(
  ctx: ResultContext & { refused: readonly Pick<EvidenceFile, "path" | "denial">[] },
): VerifyOutcome {
  const errors = ctx.refused.map((f) => ({
    code: "policy_denied",
    message: f.denial ?? `Evidence path '${f.path}' is outside the allowed directories`,
  }));
  return {
    ok: false,
    summary: errors[0]?.message ?? "Evidence refused by policy",
    result: notPerformed(ctx),
    errors,
    warnings: [],
  };
}

/**
 * The backend could not produce a usable answer (v1.1.2 "unavailable"): fail_closed with the
 * failure fields set, so an orchestrator can route on retryable / fallback_recommended. The error
 * code is the failure code, with the classification repeated in details (CONTRACT.md §4).
 */
export function unavailableOutcome(
  ctx: ResultContext & { failure: FailureClassification; warnings?: string[] },
): VerifyOutcome {
  const { summary, ...failure } = ctx.failure;
  return {
    ok: false,
    summary: `Verification unavailable: ${summary}`,
    result: buildResult("fail_closed", NO_LISTS, assessUnavailable(ctx.preflight), failure, false, ctx, null),
    errors: [{ code: failure.failure_code, message: summary, details: { ...failure } }],
    warnings: [...(ctx.warnings ?? [])],
  };
}

const ABORT_CODES = new Set(["run_cancelled", "run_interrupted"]);

/**
 * Shape a failed verify run from the error object the session service built: aborts stay plain
 * rejections; everything else is an unavailable outcome, classified from the error's failure
 * details when it has them (a BackendError) or from its message otherwise.
 */
export function failedRunOutcome(
  ctx: ResultContext & { error: VerifyError; backend: BackendName; warnings?: string[] },
): VerifyOutcome {
  if (ABORT_CODES.has(ctx.error.code)) return rejectedOutcome({ ...ctx, ...ctx.error });
  const d = ctx.error.details;
  const failure: FailureClassification =
    d && typeof d.failure_class === "string" && typeof d.failure_code === "string"
      ? {
          failure_class: d.failure_class as FailureClass,
          failure_code: d.failure_code,
          retryable: d.retryable === true,
          fallback_recommended: d.fallback_recommended !== false,
          summary: ctx.error.message,
        }
      : classifyFailure(new Error(ctx.error.message), ctx.backend);
  return unavailableOutcome({ ...ctx, failure });
}

// ---------------------------------------------------------------------------------------------
// Failure classification (v1.1.2, upstream-core.md §7.8), extended to the api backend.

// The v1.1.2 keyword tables live with the claude_code backend; verification reuses them.
const API_AUTH_TOKENS = [...AUTH_TOKENS, "api key", "api-key", "unauthorized", "permission", "forbidden"];
const CONNECTION_TOKENS = [
  "connection",
  "econnrefused",
  "econnreset",
  "enotfound",
  "eai_again",
  "fetch failed",
  "socket hang up",
  "network",
];
const NOT_INSTALLED_TOKENS = ["enoent", "command not found", "not installed", "no such file"];

const has = (msg: string, tokens: readonly string[]) => tokens.some((t) => msg.includes(t));

function failure(
  failureClass: FailureClass,
  failureCode: string,
  summary: string,
  retryable = RETRYABLE_CLASSES.has(failureClass),
): FailureClassification {
  return {
    failure_class: failureClass,
    failure_code: failureCode,
    retryable,
    fallback_recommended: true,
    summary,
  };
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === "string") return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

const API_FAILURES = {
  auth: () =>
    failure(
      "backend_auth_failure",
      "api_auth_failed",
      "The Anthropic API rejected the credentials. Check ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL.",
    ),
  rate: () =>
    failure(
      "backend_limit_reached",
      "api_rate_limited",
      "The Anthropic API rate limit was reached. Retry after a delay or use a fallback verifier.",
    ),
  // Same classes as the api backend's own classifier (classifyApiError): unavailable but retryable.
  overloaded: () =>
    failure(
      "backend_unavailable",
      "api_overloaded",
      "The Anthropic API is overloaded or failed on its side. Retry after a delay or use a fallback verifier.",
      true,
    ),
  timeout: () =>
    failure(
      "backend_timeout",
      "api_timeout",
      "The Anthropic API request timed out before a response arrived.",
    ),
  connection: () =>
    failure(
      "backend_unavailable",
      "api_connection_error",
      "Could not connect to the Anthropic API. Check the network and ANTHROPIC_BASE_URL.",
      true,
    ),
  badRequest: (msg: string) =>
    failure(
      "backend_invocation_error",
      "api_bad_request",
      `The Anthropic API request failed: ${msg.slice(0, 120)}`,
    ),
};

function classifyApi(err: unknown, msg: string): FailureClassification {
  const e = (err ?? {}) as { status?: unknown; name?: unknown; error?: { error?: { type?: unknown } } };
  const name = typeof e.name === "string" ? e.name : "";
  const status = typeof e.status === "number" ? e.status : null;
  const lower = msg.toLowerCase();
  // The SDK's error classes carry a status; connection failures carry only their class name.
  if (name === "APIConnectionTimeoutError" || status === 408) return API_FAILURES.timeout();
  if (name === "APIConnectionError") return API_FAILURES.connection();
  if (status === 401 || status === 403) return API_FAILURES.auth();
  if (status === 429) return API_FAILURES.rate();
  if (status !== null && status >= 500) return API_FAILURES.overloaded();
  if (status !== null && status >= 400) return API_FAILURES.badRequest(msg);
  if (lower.includes("timed out") || lower.includes("timeout")) return API_FAILURES.timeout();
  if (has(lower, API_AUTH_TOKENS)) return API_FAILURES.auth();
  if (lower.includes("overloaded")) return API_FAILURES.overloaded();
  if (has(lower, LIMIT_TOKENS)) return API_FAILURES.rate();
  if (has(lower, CONNECTION_TOKENS)) return API_FAILURES.connection();
  return API_FAILURES.badRequest(msg);
}

function classifyClaudeCode(err: unknown, msg: string): FailureClassification {
  const lower = msg.toLowerCase();
  const e = (err ?? {}) as { code?: unknown; timedOut?: unknown };
  if (e.code === "ENOENT" || has(lower, NOT_INSTALLED_TOKENS)) {
    return failure(
      "backend_unavailable",
      "claude_code_not_installed",
      "Claude Code CLI is unavailable or not installed. Ensure the 'claude' binary is on PATH and accessible.",
    );
  }
  if (e.timedOut === true || lower.includes("timed out")) {
    return failure(
      "backend_timeout",
      "claude_code_timeout",
      "Claude Code timed out before returning a response. The verification could not be completed in the allowed time.",
    );
  }
  if (has(lower, AUTH_TOKENS)) {
    return failure(
      "backend_auth_failure",
      "claude_code_not_authenticated",
      "Claude Code authentication failed. Run 'claude login' to re-authenticate before retrying.",
    );
  }
  if (has(lower, LIMIT_TOKENS)) {
    return failure(
      "backend_limit_reached",
      "claude_code_limit_reached",
      "Claude Code is currently unavailable due to usage limits. Retry after the limit window resets or use a fallback verifier.",
    );
  }
  if (err instanceof SyntaxError) {
    return failure(
      "backend_unusable_response",
      "claude_code_unparseable_response",
      "Claude Code returned a response that could not be parsed. The verification result is not reliable.",
    );
  }
  return failure(
    "backend_invocation_error",
    "claude_code_process_error",
    `Verification backend failed with an unexpected error: ${msg.slice(0, 120)}`,
  );
}

/**
 * Classify a failure of a verify run into the v1.1.2 classes. A BackendError is already
 * classified by its backend and is passed through; anything else is matched on its type, HTTP
 * status and message with upstream's keyword tables (timeout first, auth before limits).
 */
export function classifyFailure(err: unknown, backend: BackendName): FailureClassification {
  if (err instanceof BackendError) return { ...err.failure, summary: err.message };
  const msg = messageOf(err);
  return backend === "api" ? classifyApi(err, msg) : classifyClaudeCode(err, msg);
}

/** Blank model output is an unusable response, not a verdict (v1.1.2). */
export function emptyOutputFailure(backend: BackendName): FailureClassification {
  return backend === "api"
    ? failure(
        "backend_unusable_response",
        "api_empty_response",
        "The model returned an empty response. Verification cannot be performed on blank output.",
      )
    : failure(
        "backend_unusable_response",
        "claude_code_empty_response",
        "Claude Code returned an empty response. Verification cannot be performed on blank output.",
      );
}
