// Federation: lend the model selected tools of other MCP servers, under an allowlist.
// Wiring (see docs/federation.md and the issue-6 report):
//   const fed = setupFederation(config, logger);      // at startup, before any state is touched
//   if (!fed.ok) -> add fed.problems to the startup error list, exit 1
//   fed.federation.start();                           // after the MCP transport is up; returns at once
//   await fed.federation.ready(); fed.federation.toolsFor(profile)   // per run
//   fed.federation.status()                           // agent_get_runtime_status.federation
//   await fed.federation.close()                      // shutdown
import type { Logger } from "../log.js";
import { type FederationConfig, loadFederationConfig } from "./config.js";
import { createFederation, type Federation, type FederationAudit } from "./federation.js";

export * from "./config.js";
export { backoffMs, childEnvironment, DownstreamError } from "./connection.js";
export * from "./federation.js";
export { renderToolResult } from "./results.js";
export { compileArgumentValidator } from "./validate.js";

export type FederationSetup =
  | { ok: true; federation: Federation; config: FederationConfig | null; warnings: string[] }
  | { ok: false; problems: string[] };

/**
 * Startup step: validates the federation file when federation is enabled and builds the (not yet
 * started) Federation. When disabled, returns a disabled Federation (no tools, status enabled:false).
 * Enabled with a missing or invalid file -> { ok: false, problems } for the startup error list.
 * Spawns nothing.
 */
export function setupFederation(
  cfg: { federationEnabled: boolean; federationConfigPath: string | null },
  logger: Logger,
): FederationSetup {
  if (!cfg.federationEnabled)
    return { ok: true, federation: createFederation(null, logger), config: null, warnings: [] };
  if (!cfg.federationConfigPath) {
    return {
      ok: false,
      problems: ["CLAUDE_AGENT_MCP_FEDERATION_CONFIG: federation is enabled but no config file is set"],
    };
  }
  const loaded = loadFederationConfig(cfg.federationConfigPath);
  if (!loaded.ok) {
    return { ok: false, problems: loaded.problems.map((p) => `CLAUDE_AGENT_MCP_FEDERATION_CONFIG: ${p}`) };
  }
  for (const w of loaded.warnings) logger.warn(w);
  return {
    ok: true,
    federation: createFederation(loaded.config, logger),
    config: loaded.config,
    warnings: loaded.warnings,
  };
}

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
