// One failure classifier for every workflow (upstream classified only verify_task, by substring
// of stderr). Structured fields of the CLI's JSON result (is_error, subtype, api_error_status) are
// read first; the v1.1.2 token lists are the fallback for free text (stderr and stdout together).
import { BackendError, type FailureClass, type RunResult } from "../backend.js";

/** Envelope codes: the original's two claude_code error codes. */
export const CODE_UNAVAILABLE = "claude_code_unavailable";
export const CODE_INVOCATION = "claude_code_invocation_error";

export type ClaudeCodeFailureCode =
  | "claude_code_not_installed"
  | "claude_code_not_authenticated"
  | "claude_code_limit_reached"
  | "claude_code_timeout"
  | "claude_code_process_error"
  | "claude_code_empty_response"
  | "claude_code_unparseable_response"
  | "claude_code_mediated_action_failed";

const CLASS_OF: Record<ClaudeCodeFailureCode, FailureClass> = {
  claude_code_not_installed: "backend_unavailable",
  claude_code_not_authenticated: "backend_auth_failure",
  claude_code_limit_reached: "backend_limit_reached",
  claude_code_timeout: "backend_timeout",
  claude_code_process_error: "backend_invocation_error",
  claude_code_empty_response: "backend_unusable_response",
  claude_code_unparseable_response: "backend_unusable_response",
  claude_code_mediated_action_failed: "backend_invocation_error",
};

// v1.1.2 token lists, plus the phrases the current CLI prints ("Invalid API key · Please run
// /login", "Credit balance is too low", "Claude AI usage limit reached").
export const AUTH_TOKENS = [
  "not logged in",
  "not authenticated",
  "login required",
  "please log in",
  "please login",
  "sign in",
  "unauthenticated",
  "credentials",
  "auth",
  "token expired",
  "session expired",
  "claude login",
  "invalid api key",
  "/login",
];
export const LIMIT_TOKENS = [
  "limit",
  "quota",
  "rate limit",
  "usage limit",
  "exceeded",
  "too many requests",
  "cap reached",
  "daily limit",
  "monthly limit",
  "usage cap",
  "credit balance",
  "overloaded",
];

/**
 * A BackendError that also carries what the run produced before it failed (the mediation list,
 * the continuation mode), so the service can put it into the error envelope's `result`.
 */
/** A claude_code failure; resultExtras/warnings (from BackendError) carry mediation and denials. */
export class ClaudeCodeBackendError extends BackendError {}

export function backendError(failureCode: ClaudeCodeFailureCode, message: string): ClaudeCodeBackendError {
  const code =
    failureCode === "claude_code_not_installed"
      ? CODE_UNAVAILABLE
      : failureCode === "claude_code_mediated_action_failed"
        ? "downstream_invocation_error"
        : CODE_INVOCATION;
  return new ClaudeCodeBackendError(code, message, CLASS_OF[failureCode], failureCode);
}

/** Free-text classification (the v1.1.2 order: auth before limit, everything else a process error). */
export function classifyText(text: string): ClaudeCodeFailureCode {
  const t = text.toLowerCase();
  if (t.includes("timed out")) return "claude_code_timeout";
  if (AUTH_TOKENS.some((k) => t.includes(k))) return "claude_code_not_authenticated";
  if (LIMIT_TOKENS.some((k) => t.includes(k))) return "claude_code_limit_reached";
  return "claude_code_process_error";
}

/** HTTP status the CLI got from the API, when it reports one. */
export function classifyApiStatus(status: unknown): ClaudeCodeFailureCode | null {
  const n = typeof status === "number" ? status : typeof status === "string" ? Number(status) : Number.NaN;
  if (!Number.isFinite(n)) return null;
  if (n === 401 || n === 403) return "claude_code_not_authenticated";
  if (n === 429 || n === 529) return "claude_code_limit_reached";
  return null;
}

/** Failure details of a classified error, for logs and events. */
export function failureSummary(err: BackendError): Record<string, unknown> {
  return { code: err.code, message: err.message, ...err.failure };
}

/** Attaches partial output to an error before it leaves the backend. */
export function withPartial(
  err: ClaudeCodeBackendError,
  partial: Pick<RunResult, "transcript" | "usage" | "warnings" | "turns"> & {
    resultExtras?: Record<string, unknown>;
  },
): ClaudeCodeBackendError {
  err.transcript = partial.transcript;
  err.turns = partial.turns;
  err.usage = partial.usage;
  err.warnings = partial.warnings;
  err.resultExtras = partial.resultExtras;
  return err;
}
