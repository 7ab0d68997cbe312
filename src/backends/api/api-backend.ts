// The api backend: a real Messages API tool loop. Each model call is one turn; tool_use blocks
// are executed through the AgentTool objects handed in (workspace, federation, verify's
// submit_verdict) and answered with tool_result blocks (is_error on failure). Usage is summed over
// turns. Every SDK failure becomes a classified BackendError.
// The SDK is loaded on the first run (or by preloadApiSdk after the MCP handshake), never at startup:
// it is the largest module the server uses and the handshake does not need it.
import type Anthropic from "@anthropic-ai/sdk";
import type { Config } from "../../config.js";
import { federationAuditEvents, isFederationAudit } from "../../federation/audit.js";
import type { Logger } from "../../log.js";
import {
  type AgentTool,
  type Backend,
  type BackendCapabilities,
  BackendError,
  type ContentBlock,
  RunAbortedError,
  type RunRequest,
  type RunResult,
  type TranscriptMessage,
  type Usage,
} from "../backend.js";

const MAX_TOKENS = 8192;

const CAPABILITIES: BackendCapabilities = {
  supports_downstream_tools: true,
  supports_structured_tool_use: true,
  supports_native_multiturn: true,
  supports_workspace_assumptions: true,
  supports_limited_downstream_tools: false,
  supports_structured_continuation: false,
  supports_execution_mediation: false,
  supports_bounded_workflows: false,
};

export interface ApiBackendOptions {
  /** SDK retry count for retryable failures (429/5xx/connection); the SDK default is 2. */
  maxRetries?: number;
  timeoutMs?: number;
}

type Sdk = typeof import("@anthropic-ai/sdk").default;
let sdk: Sdk | null = null;
let sdkLoading: Promise<Sdk> | null = null;

/** Loads the Anthropic SDK once; later calls share the same promise. */
export function preloadApiSdk(): Promise<Sdk> {
  sdkLoading ??= import("@anthropic-ai/sdk").then((m) => {
    sdk = m.default;
    return sdk;
  });
  return sdkLoading;
}

export function createApiBackend(config: Config, logger: Logger, opts: ApiBackendOptions = {}): Backend {
  let client: Anthropic | null = null;
  const getClient = async () => {
    const Sdk = sdk ?? (await preloadApiSdk());
    client ??= new Sdk({
      apiKey: config.anthropicApiKey,
      baseURL: config.anthropicBaseUrl ?? undefined,
      maxRetries: opts.maxRetries ?? config.apiMaxRetries,
      timeout: opts.timeoutMs ?? 10 * 60 * 1000,
    });
    return client;
  };

  return {
    name: "api",
    capabilities: CAPABILITIES,
    describe: () => ({
      api_key_set: Boolean(config.anthropicApiKey),
      base_url: config.anthropicBaseUrl ? "custom" : "default",
      model: config.model,
      workspace_tools: config.workspaceTools,
      capabilities: CAPABILITIES,
    }),
    // The loop reports "turn 1" synchronously, before it first awaits the client (SDK load).
    warm: async () => {
      await getClient();
      // Node loads its fetch implementation (undici) on first use; the SDK's first request pays for
      // it unless something touched it before.
      void new Headers();
    },
    run: (req) => runLoop(getClient, config, logger, req),
  };
}

async function runLoop(
  getClient: () => Promise<Anthropic>,
  config: Config,
  logger: Logger,
  req: RunRequest,
): Promise<RunResult> {
  const messages: Anthropic.MessageParam[] = [
    ...req.history.map(toParam),
    { role: "user", content: req.prompt },
  ];
  const transcript: TranscriptMessage[] = [];
  const usage: Usage = { inputTokens: 0, outputTokens: 0, costUsd: null };
  const warnings: string[] = [];
  const toolCalls: { name: string; input: unknown }[] = [];
  const byName = new Map(req.tools.map((t) => [t.name, t]));
  const toolParams = req.tools.map((t) => ({
    name: t.name,
    description: t.description,
    input_schema: t.inputSchema as Anthropic.Tool.InputSchema,
  }));
  let outputText = "";
  let stopReason: string | null = null;
  let model = config.model;
  let turns = 0;

  try {
    while (turns < req.maxTurns) {
      turns++;
      req.onProgress(`turn ${turns} of ${req.maxTurns}${tokenNote(usage)}: waiting for the model`);
      const client = await getClient();
      const resp = await client.messages.create(
        {
          model: config.model,
          max_tokens: MAX_TOKENS,
          system: req.systemPrompt,
          messages,
          ...(toolParams.length ? { tools: toolParams } : {}),
        },
        { signal: req.signal },
      );
      model = resp.model || model;
      usage.inputTokens += resp.usage?.input_tokens ?? 0;
      usage.outputTokens += resp.usage?.output_tokens ?? 0;
      stopReason = resp.stop_reason ?? null;
      const blocks = resp.content.map(fromSdkBlock).filter((b): b is ContentBlock => b !== null);
      const text = blocks
        .filter((b) => b.type === "text")
        .map((b) => (b as { text: string }).text)
        .join("\n");
      if (text.trim()) outputText = text;
      messages.push({ role: "assistant", content: resp.content as Anthropic.ContentBlockParam[] });
      transcript.push({ role: "assistant", content: blocks });

      const uses = blocks.filter((b) => b.type === "tool_use") as Extract<
        ContentBlock,
        { type: "tool_use" }
      >[];
      if (!uses.length || resp.stop_reason !== "tool_use") break;
      // Recorded before the turn cap is checked: a structured answer (submit_verdict) given on the
      // last allowed turn still counts.
      for (const use of uses) toolCalls.push({ name: use.name, input: use.input });
      if (turns >= req.maxTurns) {
        warnings.push(
          `max_turns_reached: the model still wanted to call ${uses.map((u) => u.name).join(", ")} after ${turns} turn(s); raise max_turns or continue the session`,
        );
        stopReason = "max_turns_reached";
        break;
      }
      const results: ContentBlock[] = [];
      for (const use of uses) {
        req.onProgress(`turn ${turns} of ${req.maxTurns}${tokenNote(usage)}: calling ${use.name}`);
        const outcome = await callTool(byName.get(use.name), use, req, req.turnOffset + turns);
        results.push({
          type: "tool_result",
          tool_use_id: use.id,
          content: outcome.content,
          is_error: outcome.isError,
        });
      }
      messages.push({ role: "user", content: results as Anthropic.ToolResultBlockParam[] });
      transcript.push({ role: "user", content: results });
    }
  } catch (err) {
    if (req.signal.aborted) {
      const aborted = new RunAbortedError("cancelled");
      aborted.usage = usage;
      throw aborted;
    }
    const be = classifyApiError(err);
    logger.warn(
      { code: be.failure.failure_code, status: (err as { status?: number }).status },
      "api backend call failed",
    );
    be.transcript = transcript;
    be.usage = usage;
    // The failed call was not a completed turn.
    be.turns = Math.max(0, turns - 1);
    throw be;
  }

  if (!outputText.trim()) warnings.push("The model returned an empty text response");
  if (stopReason === "max_tokens") warnings.push(`The model's answer was cut at max_tokens (${MAX_TOKENS})`);
  return {
    outputText,
    turns,
    stopReason,
    model,
    usage,
    providerSessionId: null,
    warnings,
    transcript,
    toolCalls,
  };
}

async function callTool(
  tool: AgentTool | undefined,
  use: { id: string; name: string; input: unknown },
  req: RunRequest,
  turnIndex: number,
): Promise<{ content: string; isError: boolean }> {
  if (!tool) {
    req.onEvent({
      type: "tool_call",
      turnIndex,
      payload: { tool: use.name, source: "unknown", ok: false, error: "tool not available for this run" },
    });
    const offered = req.tools.map((t) => t.name).join(", ") || "none";
    return {
      content: `Error: tool '${use.name}' is not available for this run (available: ${offered})`,
      isError: true,
    };
  }
  const started = Date.now();
  let outcome: { content: string; isError: boolean; audit?: Record<string, unknown> };
  try {
    outcome = await tool.call(use.input, { signal: req.signal, sessionId: req.sessionId, turnIndex });
  } catch (err) {
    if (req.signal.aborted) throw new RunAbortedError("cancelled");
    outcome = { content: `Error: ${(err as Error).message ?? String(err)}`, isError: true };
  }
  const base = {
    tool: use.name,
    source: tool.source,
    ok: !outcome.isError,
    bytes: Buffer.byteLength(outcome.content),
    duration_ms: Date.now() - started,
  };
  if (tool.source === "federation" && isFederationAudit(outcome.audit)) {
    for (const e of federationAuditEvents(outcome.audit)) req.onEvent({ ...e, turnIndex });
  } else {
    req.onEvent({
      type: "tool_call",
      turnIndex,
      payload: {
        ...base,
        ...(outcome.audit ?? {}),
        ...(outcome.isError ? { error: outcome.content.slice(0, 500) } : {}),
      },
    });
  }
  return outcome;
}

function tokenNote(u: Usage): string {
  const total = u.inputTokens + u.outputTokens;
  return total ? `, ${total} tokens so far` : "";
}

function toParam(m: TranscriptMessage): Anthropic.MessageParam {
  return { role: m.role, content: m.content as string | Anthropic.ContentBlockParam[] };
}

function fromSdkBlock(b: Anthropic.ContentBlock): ContentBlock | null {
  if (b.type === "text") return { type: "text", text: b.text };
  if (b.type === "tool_use") return { type: "tool_use", id: b.id, name: b.name, input: b.input };
  return null;
}

/** Maps SDK errors onto the v1.1.2 classes with the api_* failure codes. */
export function classifyApiError(err: unknown): BackendError {
  // The provider's own error text, not the raw JSON body the SDK puts in `message`.
  const body = (err as { error?: { error?: { message?: unknown } } })?.error?.error?.message;
  const msg = typeof body === "string" ? body : ((err as Error)?.message ?? String(err));
  const mk = (
    cls: ConstructorParameters<typeof BackendError>[2],
    code: string,
    text: string,
    retryable?: boolean,
  ) => new BackendError("provider_runtime_error", `Claude API error: ${text}`, cls, code, retryable);
  if (isSdkError(err, "APIConnectionTimeoutError"))
    return mk("backend_timeout", "api_timeout", "the request timed out");
  if (isSdkError(err, "APIConnectionError")) {
    return mk("backend_unavailable", "api_connection_error", `could not reach the API (${msg})`, true);
  }
  if (isSdkError(err, "APIError")) {
    const status = (err as { status?: number }).status ?? 0;
    if (status === 401 || status === 403) {
      return mk(
        "backend_auth_failure",
        "api_auth_failed",
        `authentication failed (HTTP ${status}); check ANTHROPIC_API_KEY`,
      );
    }
    if (status === 429)
      return mk("backend_limit_reached", "api_rate_limited", `rate limited (HTTP 429): ${msg}`);
    if (status === 408 || status === 504)
      return mk("backend_timeout", "api_timeout", `request timed out (HTTP ${status})`);
    if (status === 529 || status >= 500) {
      return mk(
        "backend_unavailable",
        "api_overloaded",
        `the API is overloaded or failing (HTTP ${status})`,
        true,
      );
    }
    return mk("backend_invocation_error", "api_bad_request", `request rejected (HTTP ${status}): ${msg}`);
  }
  return mk("backend_invocation_error", "api_bad_request", msg);
}

/**
 * `err instanceof Anthropic[name]` once the SDK is loaded here; before that (a caller that loaded
 * the SDK itself, e.g. doctor) the same test by class name along the prototype chain.
 */
function isSdkError(
  err: unknown,
  name: "APIError" | "APIConnectionError" | "APIConnectionTimeoutError",
): boolean {
  if (!err || typeof err !== "object") return false;
  if (sdk) return err instanceof sdk[name];
  for (let p = Object.getPrototypeOf(err); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    if (p.constructor?.name === name) return true;
  }
  return false;
}
