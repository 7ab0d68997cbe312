// The Backend interface: what a session run hands to a model engine and what comes back.
// Backends know nothing of SQLite or MCP; they report tool steps and progress through callbacks
// and fail by throwing BackendError with a v1.1.2 failure classification.

export type FailureClass =
  | "backend_unavailable"
  | "backend_limit_reached"
  | "backend_timeout"
  | "backend_auth_failure"
  | "backend_invocation_error"
  | "backend_unusable_response";

export const RETRYABLE_CLASSES: ReadonlySet<FailureClass> = new Set([
  "backend_limit_reached",
  "backend_timeout",
  "backend_unusable_response",
]);

export interface FailureDetails {
  failure_class: FailureClass;
  failure_code: string;
  retryable: boolean;
  fallback_recommended: boolean;
}

/** A classified backend failure. `code` is the envelope error code. */
export class BackendError extends Error {
  readonly code: string;
  readonly failure: FailureDetails;
  /** Conversation produced before the failure (kept so a continuation sees it). */
  transcript: TranscriptMessage[] = [];
  usage?: Usage;
  /** Result fields gathered before the failure (e.g. the mediation list), kept in the envelope. */
  resultExtras?: Record<string, unknown>;
  /** Warnings gathered before the failure. */
  warnings: string[] = [];
  /** Model turns that ran before the failure (counted into the session's turns and metrics). */
  turns = 0;
  constructor(
    code: string,
    message: string,
    failureClass: FailureClass,
    failureCode: string,
    /** Overrides the class default (e.g. an overloaded API is unavailable but worth a retry). */
    retryable?: boolean,
  ) {
    super(message);
    this.name = "BackendError";
    this.code = code;
    this.failure = {
      failure_class: failureClass,
      failure_code: failureCode,
      retryable: retryable ?? RETRYABLE_CLASSES.has(failureClass),
      fallback_recommended: true,
    };
  }
}

/** Thrown when a run is aborted (client cancel, agent_cancel_session, shutdown). */
export class RunAbortedError extends Error {
  /** Tokens spent before the abort, so the session's usage stays true. */
  usage?: Usage;
  constructor(readonly reason: "cancelled" | "interrupted") {
    super(reason === "cancelled" ? "Run cancelled" : "Run interrupted by server shutdown");
    this.name = "RunAbortedError";
  }
}

/** Anthropic-style content blocks, stored verbatim in events and replayed to the API backend. */
export type ContentBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown }
  | { type: "tool_result"; tool_use_id: string; content: string; is_error?: boolean };

export interface TranscriptMessage {
  role: "user" | "assistant";
  content: string | ContentBlock[];
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
}

/** A tool the model may call during a run (workspace tools, federation tools). */
export interface AgentTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  /** True when the tool cannot change anything (offered to read-only profiles). */
  readOnly: boolean;
  /** "workspace" | "federation" | other sources; used in events and status. */
  source: string;
  call(input: unknown, ctx: ToolContext): Promise<ToolOutcome>;
}

export interface ToolContext {
  signal: AbortSignal;
  sessionId: string;
  turnIndex: number;
}

export interface ToolOutcome {
  content: string;
  isError: boolean;
  /** Extra audit data recorded in the tool event (never argument values of federation tools). */
  audit?: Record<string, unknown>;
}

export interface RunEvent {
  type: string;
  turnIndex: number;
  payload: Record<string, unknown>;
}

export interface RunRequest {
  sessionId: string;
  workflow: "run_task" | "continue_session" | "verify_task";
  profileName: "general" | "verification";
  readOnly: boolean;
  systemPrompt: string;
  /** The new user message of this request (task, continuation message, or verification prompt). */
  prompt: string;
  /** The real earlier conversation, oldest first, already trimmed to the replay budget. */
  history: TranscriptMessage[];
  /** Compact session summary for backends that rebuild context as text. */
  sessionSummary: string | null;
  providerSessionId: string | null;
  isContinuation: boolean;
  workingDirectory: string;
  allowedDirs: string[];
  maxTurns: number;
  /** Turn count of the session before this request (for event turn indexes). */
  turnOffset: number;
  /** Tools offered to the model; empty when tools are off for this run. */
  tools: AgentTool[];
  /** allow_tools: false — the model gets no tools at all (claude_code: every built-in tool denied). */
  toolsDisabled?: boolean;
  /** Earlier events of the session, oldest first (for backends that rebuild context as text). */
  sessionEvents: RunEvent[];
  signal: AbortSignal;
  onProgress(message: string): void;
  onEvent(event: RunEvent): void;
}

export interface RunResult {
  outputText: string;
  turns: number;
  stopReason: string | null;
  model: string;
  usage: Usage;
  providerSessionId: string | null;
  warnings: string[];
  /** Messages produced by this request after the user prompt (assistant turns, tool exchanges). */
  transcript: TranscriptMessage[];
  /** Backend-specific additions placed into result (e.g. claude_code mediation, continuation mode). */
  resultExtras?: Record<string, unknown>;
  /** Tool calls the model made, in order (for verify's submit_verdict). */
  toolCalls?: { name: string; input: unknown }[];
}

export interface BackendCapabilities {
  supports_downstream_tools: boolean;
  supports_structured_tool_use: boolean;
  supports_native_multiturn: boolean;
  supports_workspace_assumptions: boolean;
  supports_limited_downstream_tools: boolean;
  supports_structured_continuation: boolean;
  supports_execution_mediation: boolean;
  supports_bounded_workflows: boolean;
}

export interface Backend {
  readonly name: "api" | "claude_code";
  readonly capabilities: BackendCapabilities;
  run(req: RunRequest): Promise<RunResult>;
  /** Status details for agent_get_runtime_status (never secrets). */
  describe(): Record<string, unknown>;
  close?(): Promise<void>;
  /** Loads what the first run needs, after the handshake, so the first run is not slower. */
  warm?(): Promise<void>;
}
