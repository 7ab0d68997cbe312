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
import { createFederation, type Federation } from "./federation.js";

export { federationAuditEvents, isFederationAudit } from "./audit.js";
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
