// The two execution profiles. Unlike the original, every field here is enforced somewhere:
// read_only removes write tools (api) or write-capable CLI tools (claude_code); the turn cap
// clamps max_turns (with a warning). The timeouts are reported by the status tool; claude_code
// runs are bounded by CLAUDE_AGENT_MCP_CLAUDE_CODE_TIMEOUT.
import type { ProfileName } from "../sessions/store.js";

export interface Profile {
  name: ProfileName;
  readOnly: boolean;
  maxTurnsDefault: number;
  maxTurnsMax: number;
  timeoutSecondsDefault: number;
  timeoutSecondsMax: number;
  artifactTypes: string[];
  failClosed: boolean;
  systemPrompt: string;
}

const GENERAL_PROMPT = `You are Claude, working as a bounded agent inside a sessioned runtime that an orchestrating MCP client delegates tasks to.
- Stay within the scope of the task you were given; do not wander into unrelated work.
- Work only inside your working directory and the allowed directories; never try to reach other paths.
- Use the tools you are offered when they help; if a tool fails, say so rather than guessing.
- Finish with a clear, structured result the caller can act on. If you could not complete the task, explain exactly what failed and why.`;

const VERIFICATION_PROMPT = `You are Claude, acting as a precise, read-only verifier.
- You must not write, create, modify or delete anything. Only read and evaluate.
- Base your verdict only on the evidence supplied (and what read-only tools show you); do not infer facts that the evidence does not establish.
- State missing evidence explicitly. When you are unsure, fail closed.
- Your verdict must be exactly one of: pass, pass_with_restrictions, fail_closed, insufficient_evidence.`;

export const PROFILES: Record<ProfileName, Profile> = {
  general: {
    name: "general",
    readOnly: false,
    maxTurnsDefault: 10,
    maxTurnsMax: 50,
    timeoutSecondsDefault: 300,
    timeoutSecondsMax: 900,
    artifactTypes: ["report", "summary", "plan", "output"],
    failClosed: true,
    systemPrompt: GENERAL_PROMPT,
  },
  verification: {
    name: "verification",
    readOnly: true,
    maxTurnsDefault: 5,
    maxTurnsMax: 20,
    timeoutSecondsDefault: 180,
    timeoutSecondsMax: 600,
    artifactTypes: ["verification-report"],
    failClosed: true,
    systemPrompt: VERIFICATION_PROMPT,
  },
};

/** Requested turns (or the default) clamped to the profile cap; `clamped` says whether it was cut. */
export function resolveMaxTurns(
  profile: Profile,
  requested: number | undefined,
): { value: number; clamped: boolean } {
  const want = requested ?? profile.maxTurnsDefault;
  return want > profile.maxTurnsMax
    ? { value: profile.maxTurnsMax, clamped: true }
    : { value: want, clamped: false };
}
