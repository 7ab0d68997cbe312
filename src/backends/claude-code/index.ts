// The claude_code backend's public surface.
export {
  CLAUDE_CODE_CAPABILITIES,
  type ClaudeCodeBackend,
  type ClaudeCodeBackendOptions,
  createClaudeCodeBackend,
} from "./claude-code-backend.js";
export { type CliCheck, checkClaudeCli } from "./cli-process.js";
export { ClaudeCodeBackendError } from "./failure.js";
export type { MediatedActionRecord, WorkflowAggregate } from "./mediation.js";
