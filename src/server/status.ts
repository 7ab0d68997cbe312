// The runtime status snapshot: upstream's keys with true values, plus ok, profiles, backend
// details, federation, state and uptime. Read-only: building it touches nothing.
import type { Backend } from "../backends/backend.js";
import type { Config } from "../config.js";
import { PROFILES } from "../policy/profiles.js";
import type { SessionStore } from "../sessions/store.js";
import { VERSION } from "../version.js";

export interface StatusSource {
  config: Config;
  backend: Backend;
  store: SessionStore;
  startedAt: number;
  /** Federation status, when federation is configured. */
  federation?: () => Record<string, unknown> & { active?: boolean };
  activeRuns: () => number;
}

const PRESERVED_LIMITATIONS = [
  "claude_code backend: federation tools are reached only through execution mediation (the text protocol), not a native tool loop",
  "no cross-backend session migration: a session continued on another backend replays its conversation but cannot resume the other backend's native session",
  "mediated workflows are bounded by the per-turn, per-session and workflow-step caps; no open-ended autonomous chaining",
  "mediated execution requires active federation",
  "HTTP transport is single-tenant: every authenticated client sees every session",
];

export function buildStatus(src: StatusSource): Record<string, unknown> {
  const c = src.config;
  const cc = c.claudeCode;
  const fed = src.federation?.() ?? { enabled: c.federationEnabled, active: false };
  return {
    ok: true,
    version: VERSION,
    operator_profile_preset: c.operatorPreset,
    backend: src.backend.name,
    transport: c.transport,
    model: c.model,
    federation_enabled: c.federationEnabled,
    federation_active: Boolean(fed.active),
    capability_flags: {
      limited_tool_forwarding_enabled: cc.limitedToolForwarding,
      execution_mediation_enabled: cc.enableExecutionMediation,
      federation_enabled: c.federationEnabled,
      ...Object.fromEntries(Object.entries(src.backend.capabilities).map(([k, v]) => [`backend_${k}`, v])),
    },
    continuation_settings: {
      max_continuation_turns: cc.maxContinuationTurns,
      max_continuation_warnings: cc.maxContinuationWarnings,
      max_continuation_forwarding_events: cc.maxContinuationForwardingEvents,
      include_verification_context: cc.includeVerificationContext,
      include_tool_downgrade_context: cc.includeToolDowngradeContext,
    },
    mediation_settings: {
      enabled: cc.enableExecutionMediation,
      max_actions_per_turn: cc.maxMediatedActionsPerTurn,
      allowed_action_types: cc.allowedMediatedActionTypes,
      include_results_in_continuation: cc.includeMediatedResultsInContinuation,
    },
    workflow_settings: {
      max_workflow_steps: cc.maxMediatedWorkflowSteps,
      allowed_tools: cc.allowedMediatedTools,
      denied_tools: cc.deniedMediatedTools,
      max_session_approvals: cc.maxSessionMediatedApprovals,
      include_rejected_in_continuation: cc.includeRejectedMediationInContinuation,
      policy_profile: cc.mediationPolicyProfile,
    },
    preserved_limitations: PRESERVED_LIMITATIONS,
    resolved_at: new Date().toISOString(),
    mode: "standard",
    policy_mode: null,
    authority_mode: null,
    tool_surface_mode: null,
    active_profile: null,
    exposed_tools: null,
    allowed_directories: null,
    restriction_contract_id: null,
    restriction_contract_version: null,
    fail_closed_enabled: null,
    restriction_compliance: null,
    non_compliance_reasons: null,
    server_version: VERSION,
    profiles: Object.values(PROFILES).map((p) => ({
      name: p.name,
      read_only: p.readOnly,
      max_turns_default: p.maxTurnsDefault,
      max_turns_max: p.maxTurnsMax,
      timeout_seconds_default: p.timeoutSecondsDefault,
      timeout_seconds_max: p.timeoutSecondsMax,
    })),
    backend_details: src.backend.describe(),
    federation: fed,
    allowed_dirs: c.allowedDirs,
    state_dir: c.stateDir,
    db: {
      path: c.dbPath,
      schema_version: src.store.schemaVersion(),
      session_count: src.store.sessionCount(),
    },
    active_runs: src.activeRuns(),
    uptime_seconds: Math.round((Date.now() - src.startedAt) / 1000),
    pid: process.pid,
  };
}
