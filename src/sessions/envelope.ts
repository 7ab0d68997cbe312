// The response envelope shared by run/continue/verify (keys and order as the original), the
// error object, and the normalised metrics block. Raw provider objects never appear here.
import type { FailureDetails } from "../backends/backend.js";
import type { ProfileName, SessionStatus, Workflow } from "./store.js";

export interface ErrorObject {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface ArtifactRef {
  artifact_id: string;
  artifact_type: string;
  logical_name: string;
  mime_type: string;
  size_bytes: number;
  uri: string;
}

export interface Metrics {
  backend: string;
  model: string;
  turns: number;
  duration_ms: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number | null;
  stop_reason: string | null;
}

export interface Envelope {
  ok: boolean;
  session_id: string;
  status: SessionStatus;
  workflow: Workflow;
  profile: ProfileName;
  summary: string;
  result: Record<string, unknown>;
  artifacts: ArtifactRef[];
  warnings: string[];
  errors: ErrorObject[];
}

export function envelope(
  parts: Omit<Envelope, "artifacts" | "warnings" | "errors"> & Partial<Envelope>,
): Envelope {
  return {
    ok: parts.ok,
    session_id: parts.session_id,
    status: parts.status,
    workflow: parts.workflow,
    profile: parts.profile,
    summary: parts.summary,
    result: parts.result,
    artifacts: parts.artifacts ?? [],
    warnings: parts.warnings ?? [],
    errors: parts.errors ?? [],
  };
}

/** An error envelope for a request that never got a session (validation, policy). */
export function rejection(
  workflow: Workflow,
  profile: ProfileName,
  error: ErrorObject,
  opts: { sessionId?: string; status?: SessionStatus; result?: Record<string, unknown> } = {},
): Envelope {
  return envelope({
    ok: false,
    session_id: opts.sessionId ?? "",
    status: opts.status ?? "failed",
    workflow,
    profile,
    summary: error.message,
    result: opts.result ?? {},
    errors: [error],
  });
}

export function errorWithFailure(code: string, message: string, failure?: FailureDetails): ErrorObject {
  return failure ? { code, message, details: { ...failure } } : { code, message };
}

export function artifactUri(artifactId: string): string {
  return `claude-agent-mcp://artifacts/${artifactId}`;
}

/** First line of the trimmed output, cut at 200 characters (upstream's summary rule). */
export function summarize(text: string): string {
  const t = text.trim();
  if (!t) return "(empty response)";
  const first = t.split("\n", 1)[0].trim();
  return first.length > 200 ? `${first.slice(0, 200)}...` : first;
}
