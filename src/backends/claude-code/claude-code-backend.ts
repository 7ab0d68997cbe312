// The claude_code backend: one request = one `claude -p` call (stream-json, prompt on stdin),
// plus, when needed, a native `--resume` continuation with a reconstructed-prompt fallback and
// bounded mediation follow-up turns. Failures leave as ClaudeCodeBackendError (a BackendError
// with the v1.1.2 classification); aborts as RunAbortedError. Nothing here knows SQLite or MCP.
import type { Config } from "../../config.js";
import type { Logger } from "../../log.js";
import {
  type AgentTool,
  type Backend,
  type BackendCapabilities,
  RunAbortedError,
  type RunRequest,
  type RunResult,
  type TranscriptMessage,
  type Usage,
} from "../backend.js";
import { buildArgs, profileFlags } from "./cli-args.js";
import {
  type CliCheck,
  type CliMessage,
  checkClaudeCli,
  childEnv,
  needsShell,
  runCli,
} from "./cli-process.js";
import { buildContext, RECONSTRUCTION_VERSION, renderContinuationPrompt } from "./continuation.js";
import {
  backendError,
  type ClaudeCodeBackendError,
  classifyApiStatus,
  classifyText,
  failureSummary,
  withPartial,
} from "./failure.js";
import { countSessionApprovals, feedbackMessage, MediationRun, protocolPrompt } from "./mediation.js";
import { availableToolsBlock, initialPrompt, screenTools } from "./prompt.js";

export const CLAUDE_CODE_CAPABILITIES: BackendCapabilities = Object.freeze({
  supports_downstream_tools: false,
  supports_structured_tool_use: false,
  supports_native_multiturn: true,
  supports_workspace_assumptions: true,
  supports_limited_downstream_tools: true,
  supports_structured_continuation: true,
  supports_execution_mediation: true,
  supports_bounded_workflows: true,
});

/** Hard bound on mediation follow-up turns per request (the per-turn cap bounds it first). */
const MAX_FOLLOW_UPS = 10;
const KILL_GRACE_MS = 2000;
/** Failures of a `--resume` attempt after which the reconstructed prompt is worth a try. */
const RESUME_FALLBACK_CODES = new Set([
  "claude_code_process_error",
  "claude_code_unparseable_response",
  "claude_code_empty_response",
]);

export interface ClaudeCodeBackendOptions {
  /** Environment the child starts from (default process.env); CLAUDECODE and the API key are removed. */
  env?: NodeJS.ProcessEnv;
  /** Grace between SIGTERM and SIGKILL of the process group. */
  killGraceMs?: number;
}

export interface ClaudeCodeBackend extends Backend {
  /** The startup `claude --version` check (bounded at 10 s), started at creation, never awaited there. */
  readonly cliCheck: Promise<CliCheck>;
}

/** One successful CLI reply, normalised. */
interface Reply {
  text: string;
  sessionId: string | null;
  turns: number;
  stopReason: string;
  model: string | null;
  maxTurnsReached: boolean;
  denials: string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

function snippet(text: string, max = 500): string {
  const t = text.trim().replace(/\s+/g, " ");
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

const NOT_INSTALLED_ERRNOS = new Set(["ENOENT", "EACCES", "ENOTDIR", "EISDIR", "ENOEXEC", "EPERM"]);

export function createClaudeCodeBackend(
  config: Config,
  logger: Logger,
  options: ClaudeCodeBackendOptions = {},
): ClaudeCodeBackend {
  const cc = config.claudeCode;
  const cliPath = cc.cliPath;
  const inlineSystem = needsShell(cliPath);
  const killGraceMs = options.killGraceMs ?? KILL_GRACE_MS;
  const env = childEnv(options.env ?? process.env, {
    inheritApiKey: cc.inheritApiKey,
    apiKey: config.anthropicApiKey,
  });

  const cli = {
    state: "pending" as "pending" | "ok" | "failed",
    version: null as string | null,
    error: null as string | null,
  };
  const cliCheck = checkClaudeCli(cliPath, env).then((r) => {
    cli.state = r.ok ? "ok" : "failed";
    cli.version = r.version ?? null;
    cli.error = r.error ?? null;
    if (r.ok) logger.info({ cliPath, version: r.version }, "claude CLI found");
    else logger.warn({ cliPath, error: r.error }, "claude CLI check failed");
    return r;
  });

  async function run(req: RunRequest): Promise<RunResult> {
    if (req.signal.aborted) throw new RunAbortedError("cancelled");
    const emit = (type: string, turnIndex: number, payload: Record<string, unknown>) => {
      try {
        req.onEvent({ type, turnIndex, payload });
      } catch (err) {
        logger.warn({ err, type }, "event callback failed");
      }
    };
    const progress = (message: string) => {
      try {
        req.onProgress(message);
      } catch {
        // progress is best effort
      }
    };

    const warnings: string[] = [];
    const transcript: TranscriptMessage[] = [];
    const usage: Usage = { inputTokens: 0, outputTokens: 0, costUsd: null };
    const denials = new Map<string, number>();
    let turns = 0;
    let model: string | null = null;
    const resultExtras: Record<string, unknown> = {};
    const partial = () => ({ transcript, usage, warnings, resultExtras, turns });

    // Federation tools: taught through the mediation protocol, described as text (limited
    // forwarding), or not offered at all. verify_task ignores federation, as upstream.
    const withMediation = req.workflow !== "verify_task";
    const fedTools: AgentTool[] = withMediation ? req.tools.filter((t) => t.source === "federation") : [];
    let systemPrompt = req.systemPrompt;
    let toolsBlock = "";
    if (fedTools.length) {
      const visible = fedTools.map((t) => t.name);
      if (cc.enableExecutionMediation) {
        systemPrompt = `${systemPrompt.trim()}\n\n${protocolPrompt(cc, fedTools)}`.trim();
        emit("downstream_tool_catalog_resolved", req.turnOffset, {
          visible_tools: visible,
          forwarded: visible.length,
          dropped: 0,
          dropped_names: [],
          forwarding_mode: "mediated",
        });
      } else if (cc.limitedToolForwarding) {
        const { compatible, dropped } = screenTools(fedTools);
        toolsBlock = availableToolsBlock(compatible);
        for (const d of dropped) {
          warnings.push(`Tool '${d.tool_name}' not forwarded to Claude Code: ${d.reason}`);
        }
        emit("downstream_tool_catalog_resolved", req.turnOffset, {
          visible_tools: visible,
          forwarded: compatible.length,
          dropped: dropped.length,
          dropped_names: dropped.map((d) => d.tool_name),
          forwarding_mode: "limited_text_injection",
        });
      } else {
        warnings.push(
          "The claude_code backend does not call downstream federation tools natively; they are not forwarded " +
            "(enable execution mediation, or use the api backend).",
        );
        emit("downstream_tool_catalog_resolved", req.turnOffset, {
          visible_tools: visible,
          forwarded: false,
          reason: "backend 'claude_code' does not support downstream tools",
        });
      }
    }

    const profile = profileFlags(req.readOnly, cc, req.toolsDisabled);
    const addDirs = req.allowedDirs.filter((d) => d !== req.workingDirectory);
    const inlineSystemPrompt = inlineSystem ? systemPrompt : null;

    const invoke = async (stdin: string, resume: string | null, maxTurns: number) => {
      const args = buildArgs({
        model: config.model,
        maxTurns,
        profile,
        addDirs,
        systemPrompt: inlineSystem ? null : systemPrompt,
        resume,
      });
      logger.debug(
        { sessionId: req.sessionId, flags: args.filter((a) => a.startsWith("-")), resume: Boolean(resume) },
        "running claude CLI",
      );
      const outcome = await runCli({
        cliPath,
        args,
        stdin,
        cwd: req.workingDirectory,
        env,
        timeoutMs: cc.timeoutSeconds * 1000,
        killGraceMs,
        signal: req.signal,
        onMessage,
      });
      if (outcome.aborted) throw new RunAbortedError("cancelled");
      const r = outcome.result;
      if (r) addUsage(r);
      return interpret(outcome);
    };

    // One progress message per model turn (the CLI may split a turn's blocks over several lines).
    const seenMessages = new Set<string>();
    const onMessage = (m: CliMessage) => {
      if (m.type !== "assistant" || !isRecord(m.message)) return;
      const id = typeof m.message.id === "string" ? m.message.id : `#${seenMessages.size}`;
      seenMessages.add(id);
      const content = Array.isArray(m.message.content) ? m.message.content : [];
      const tools = content.filter((b) => isRecord(b) && b.type === "tool_use").map((b) => String(b.name));
      progress(
        `Claude Code turn ${seenMessages.size} of ${req.maxTurns}` +
          (tools.length ? `: calling ${tools.join(", ")}` : ""),
      );
    };

    const addUsage = (r: CliMessage) => {
      const u = isRecord(r.usage) ? r.usage : {};
      usage.inputTokens +=
        num(u.input_tokens) + num(u.cache_creation_input_tokens) + num(u.cache_read_input_tokens);
      usage.outputTokens += num(u.output_tokens);
      if (typeof r.total_cost_usd === "number") usage.costUsd = (usage.costUsd ?? 0) + r.total_cost_usd;
    };

    type Interpreted = { ok: true; reply: Reply } | { ok: false; error: ClaudeCodeBackendError };
    const interpret = (o: Awaited<ReturnType<typeof runCli>>): Interpreted => {
      const fail = (code: Parameters<typeof backendError>[0], message: string): Interpreted => ({
        ok: false,
        error: backendError(code, message),
      });
      if (o.spawnErrorCode) {
        return NOT_INSTALLED_ERRNOS.has(o.spawnErrorCode)
          ? fail(
              "claude_code_not_installed",
              `claude CLI could not be started (${o.spawnErrorCode}): ${cliPath || "(no path)"}; install Claude Code or set CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH`,
            )
          : fail("claude_code_process_error", `claude CLI invocation failed: ${o.spawnErrorMessage}`);
      }
      if (o.timedOut) return fail("claude_code_timeout", `claude CLI timed out after ${cc.timeoutSeconds}s`);
      const r = o.result;
      if (r) {
        const subtype = typeof r.subtype === "string" ? r.subtype : "";
        const lastAssistant = o.assistantTexts.length ? o.assistantTexts[o.assistantTexts.length - 1] : "";
        const text = typeof r.result === "string" ? r.result : lastAssistant;
        const ok = r.is_error !== true && (subtype === "success" || subtype === "");
        const maxTurnsReached = subtype === "error_max_turns";
        if (ok || maxTurnsReached) {
          const modelName =
            (o.init && typeof o.init.model === "string" ? o.init.model : null) ??
            (isRecord(r.modelUsage) ? (Object.keys(r.modelUsage)[0] ?? null) : null);
          const denied = Array.isArray(r.permission_denials)
            ? r.permission_denials.map((d) => (isRecord(d) ? String(d.tool_name ?? "unknown") : "unknown"))
            : [];
          return {
            ok: true,
            reply: {
              text,
              sessionId:
                typeof r.session_id === "string"
                  ? r.session_id
                  : o.init && typeof o.init.session_id === "string"
                    ? o.init.session_id
                    : null,
              turns: typeof r.num_turns === "number" ? r.num_turns : 1,
              stopReason: maxTurnsReached
                ? "max_turns"
                : typeof r.stop_reason === "string"
                  ? r.stop_reason
                  : "end_turn",
              model: modelName,
              maxTurnsReached,
              denials: denied,
            },
          };
        }
        const errors = Array.isArray(r.errors) ? r.errors.map(String).join("; ") : "";
        const detail = [typeof r.result === "string" ? r.result : "", errors, o.stderr].filter((s) =>
          s.trim(),
        );
        const code = classifyApiStatus(r.api_error_status) ?? classifyText(detail.join("\n"));
        const status = r.api_error_status != null ? `, API status ${String(r.api_error_status)}` : "";
        return fail(
          code,
          `claude CLI reported an error (${subtype || "is_error"}${status}): ${snippet(detail.join(" | ")) || "(no detail)"}`,
        );
      }
      if (o.exitCode !== 0 || o.exitSignal) {
        const detail = o.stderr.trim() || o.stdout.trim();
        const how = o.exitSignal ? `was killed by ${o.exitSignal}` : `exited with code ${o.exitCode}`;
        return fail(classifyText(detail), `claude CLI ${how}: ${snippet(detail) || "(no output)"}`);
      }
      if (!o.stdout.trim())
        return fail("claude_code_empty_response", "claude CLI exited 0 but printed nothing");
      return fail(
        "claude_code_unparseable_response",
        o.garbageLines
          ? `claude CLI output is not the expected JSON (${o.garbageLines} unparseable line(s)): ${snippet(o.stdout, 200)}`
          : "claude CLI printed no result object",
      );
    };

    const accept = (reply: Reply) => {
      turns += reply.turns;
      model = model ?? reply.model;
      for (const d of reply.denials) denials.set(d, (denials.get(d) ?? 0) + 1);
      if (reply.maxTurnsReached) {
        warnings.push(`max_turns_reached: Claude Code stopped at the turn limit (max_turns=${req.maxTurns})`);
      }
    };
    const failWith = (err: ClaudeCodeBackendError): never => {
      logger.warn({ sessionId: req.sessionId, ...failureSummary(err) }, "claude_code run failed");
      throw withPartial(err, partial());
    };

    // First call: initial prompt, native resume, or the reconstructed continuation prompt.
    let reply: Reply;
    const reconstructed = async (reason: string): Promise<Reply> => {
      const ctx = buildContext({
        cc,
        sessionId: req.sessionId,
        sessionSummary: req.sessionSummary,
        history: req.history,
        events: req.sessionEvents,
        workingDirectory: req.workingDirectory,
        profileName: req.profileName,
      });
      emit("session_continuation_context_built", req.turnOffset, { policy: ctx.policy, stats: ctx.stats });
      if (ctx.stats.turns_omitted > 0 || ctx.stats.warnings_omitted > 0) {
        emit("session_continuation_context_truncated", req.turnOffset, { stats: ctx.stats });
      }
      const prompt = renderContinuationPrompt(ctx, { task: req.prompt, inlineSystemPrompt, toolsBlock });
      const res = await invoke(prompt, null, req.maxTurns);
      if (!res.ok) return failWith(res.error);
      resultExtras.continuation = {
        mode: "reconstructed",
        reason,
        reconstruction_version: RECONSTRUCTION_VERSION,
        stats: ctx.stats,
      };
      emit("session_continuation_prompt_rendered", req.turnOffset, {
        reconstruction_version: RECONSTRUCTION_VERSION,
        continuation_mode: "reconstructed",
      });
      return res.reply;
    };

    if (req.isContinuation && req.providerSessionId) {
      const resumeId = req.providerSessionId;
      const stdin = inlineSystem
        ? initialPrompt({ task: req.prompt, inlineSystemPrompt, sessionSummary: null, toolsBlock })
        : req.prompt;
      const res = await invoke(stdin, resumeId, req.maxTurns);
      if (res.ok) {
        reply = res.reply;
        resultExtras.continuation = { mode: "resume", provider_session_id: resumeId };
        emit("session_continuation_prompt_rendered", req.turnOffset, {
          reconstruction_version: RECONSTRUCTION_VERSION,
          continuation_mode: "resume",
          provider_session_id: resumeId,
        });
      } else if (RESUME_FALLBACK_CODES.has(res.error.failure.failure_code)) {
        logger.warn(
          { sessionId: req.sessionId, error: res.error.message },
          "claude --resume failed; falling back to the reconstructed continuation prompt",
        );
        emit("session_continuation_resume_fallback", req.turnOffset, {
          provider_session_id: resumeId,
          failure_class: res.error.failure.failure_class,
          failure_code: res.error.failure.failure_code,
          message: snippet(res.error.message, 300),
        });
        warnings.push(
          `Native resume of Claude Code session ${resumeId} failed; continued from a reconstructed prompt`,
        );
        reply = await reconstructed("resume_failed");
        (resultExtras.continuation as Record<string, unknown>).resume_error = snippet(res.error.message, 300);
      } else {
        return failWith(res.error);
      }
    } else if (req.isContinuation) {
      reply = await reconstructed("no_provider_session");
    } else {
      const stdin = initialPrompt({
        task: req.prompt,
        inlineSystemPrompt,
        sessionSummary: req.sessionSummary,
        toolsBlock,
      });
      const res = await invoke(stdin, null, req.maxTurns);
      if (!res.ok) return failWith(res.error);
      reply = res.reply;
    }
    accept(reply);
    transcript.push({ role: "assistant", content: reply.text });

    // Mediation: parse every reply; hand executed results back in bounded --resume turns.
    let followUps = 0;
    if (withMediation) {
      const mediation = new MediationRun({
        cc,
        tools: fedTools,
        profileName: req.profileName,
        sessionId: req.sessionId,
        sessionApprovedBefore: countSessionApprovals(req.sessionEvents),
        signal: req.signal,
        emit,
      });
      for (let round = 1; ; round++) {
        const out = await mediation.processReply(reply.text, req.turnOffset + turns, round);
        warnings.push(...out.warnings);
        if (out.blocksFound || cc.enableExecutionMediation)
          resultExtras.mediation = mediation.summary(followUps);
        if (out.failed > 0) {
          const failedRecs = out.records.filter((r) => r.status === "failed");
          failWith(
            backendError(
              "claude_code_mediated_action_failed",
              `Mediated tool call failed: ${failedRecs.map((r) => `${r.tool} (${r.request_id}): ${r.reason}`).join("; ")}`,
            ),
          );
        }
        if (out.executed === 0) break;
        const remainingTurns = req.maxTurns - turns;
        if (followUps >= MAX_FOLLOW_UPS || remainingTurns <= 0 || !reply.sessionId) {
          warnings.push(
            "Mediated action results could not be returned to the model " +
              (reply.sessionId ? "(turn or follow-up limit reached)" : "(no Claude Code session id)"),
          );
          break;
        }
        const remainingActions = Math.max(0, cc.maxMediatedActionsPerTurn - mediation.approvedThisRequest);
        const message = feedbackMessage(out, remainingActions);
        transcript.push({ role: "user", content: message });
        progress(`Returning ${out.executed} mediated result(s) to Claude Code`);
        const res = await invoke(message, reply.sessionId, remainingTurns);
        if (!res.ok) return failWith(res.error);
        followUps++;
        reply = res.reply;
        accept(reply);
        transcript.push({ role: "assistant", content: reply.text });
        resultExtras.mediation = mediation.summary(followUps);
      }
    }

    if (denials.size) {
      for (const [name, n] of denials) {
        warnings.push(
          `Claude Code denied permission for tool '${name}'${n > 1 ? ` (${n} times)` : ""} (permission_denials)`,
        );
      }
      resultExtras.permission_denials = [...denials.keys()];
    }
    if (!reply.text.trim() && req.workflow !== "verify_task") {
      warnings.push("Claude Code returned an empty response");
    }
    return {
      outputText: reply.text,
      turns,
      stopReason: reply.stopReason,
      model: model ?? (config.model || "claude-code"),
      usage,
      providerSessionId: reply.sessionId,
      warnings,
      transcript,
      resultExtras,
    };
  }

  return {
    name: "claude_code",
    capabilities: CLAUDE_CODE_CAPABILITIES,
    cliCheck,
    run,
    describe() {
      return {
        backend: "claude_code",
        cli_path: cliPath || null,
        configured_cli_path: cc.configuredCliPath || null,
        cli_version: cli.version,
        cli_check: cli.state,
        cli_error: cli.error,
        model: config.model || null,
        output_format: "stream-json",
        system_prompt_delivery: inlineSystem ? "inline" : "append_system_prompt",
        timeout_seconds: cc.timeoutSeconds,
        inherit_api_key: cc.inheritApiKey,
        profiles: {
          general: profileFlags(false, cc),
          verification: profileFlags(true, cc),
        },
        // Capability flags and the continuation/mediation/workflow settings are in the status
        // snapshot's top level (server/status.ts), built from the same config.
      };
    },
  };
}
