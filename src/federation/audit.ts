// The audit trail of one federation tool call, turned into the original's session events. Kept
// apart from the federation runtime so the backends can record audits without loading the MCP
// client SDK (the api backend is loaded at startup; federation only when it is enabled).
import type { FederationAudit } from "./federation.js";

export function isFederationAudit(audit: unknown): audit is FederationAudit {
  return (
    typeof audit === "object" &&
    audit !== null &&
    (audit as { source?: unknown }).source === "federation" &&
    typeof (audit as { normalized_name?: unknown }).normalized_name === "string"
  );
}

/**
 * The upstream audit events for one federation tool call, from its ToolOutcome.audit:
 * `downstream_tool_invocation` (only when the call reached the server, as upstream) and
 * `downstream_tool_result` (always; refusals such as schema errors are recorded too, with error_code).
 * Payloads hold argument names only, never values.
 */
export function federationAuditEvents(
  audit: FederationAudit,
): { type: "downstream_tool_invocation" | "downstream_tool_result"; payload: Record<string, unknown> }[] {
  const events: {
    type: "downstream_tool_invocation" | "downstream_tool_result";
    payload: Record<string, unknown>;
  }[] = [];
  if (audit.invoked) {
    events.push({
      type: "downstream_tool_invocation",
      payload: {
        normalized_name: audit.normalized_name,
        server: audit.server,
        downstream_name: audit.downstream_name,
        input_keys: [...audit.input_keys],
      },
    });
  }
  events.push({
    type: "downstream_tool_result",
    payload: {
      normalized_name: audit.normalized_name,
      success: audit.success,
      error_message: audit.success ? null : audit.error_message,
      error_code: audit.error_code,
      duration_ms: audit.duration_ms,
      truncated: audit.truncated,
    },
  });
  return events;
}
