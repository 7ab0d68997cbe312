// SessionService: the workflows (run, continue, verify), their runs in flight, cancellation,
// waiting and recovery. It owns the policy checks and the store; backends do the model work.
// Nothing here knows MCP: tool handlers translate calls into these methods.
import { randomUUID } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import {
  type AgentTool,
  type Backend,
  BackendError,
  RunAbortedError,
  type RunEvent,
  type RunResult,
  type TranscriptMessage,
} from "../backends/backend.js";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { resolveInside } from "../policy/paths.js";
import { PROFILES, type Profile, resolveMaxTurns } from "../policy/profiles.js";
import { ArtifactWriter } from "./artifacts.js";
import { formatAttachmentsForPrompt, readAttachments } from "./attachments.js";
import {
  type ArtifactRef,
  artifactUri,
  type Envelope,
  type ErrorObject,
  envelope,
  errorWithFailure,
  type Metrics,
  rejection,
  summarize,
} from "./envelope.js";
import { buildHistory } from "./history.js";
import { createOwner, isDeadLock, type LockOwner } from "./ownership.js";
import type {
  ArtifactRecord,
  NewEvent,
  ProfileName,
  SessionRecord,
  SessionStatus,
  SessionStore,
  StoredEvent,
  Workflow,
} from "./store.js";

export interface ToolRequest {
  profile: Profile;
  workingDirectory: string;
  allowedDirs: string[];
}

/** Supplies the tools a run may offer the model (workspace + federation), per profile. */
export type ToolProvider = (req: ToolRequest) => Promise<AgentTool[]>;

export interface ServiceDeps {
  config: Config;
  store: SessionStore;
  backend: Backend;
  logger: Logger;
  tools?: ToolProvider;
  owner?: LockOwner;
}

/** Per-call context from the transport: cancellation, progress, how long to wait. */
export interface CallContext {
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  waitSeconds?: number;
}

export interface RunTaskInput {
  task: string;
  system_profile?: ProfileName;
  working_directory?: string;
  attachments?: string[];
  max_turns?: number;
  allow_tools?: boolean;
  wait_seconds?: number;
}

export interface ContinueInput {
  session_id: string;
  message: string;
  max_turns?: number;
  wait_seconds?: number;
}

export interface RunSpec {
  session: SessionRecord;
  workflow: Workflow;
  profile: Profile;
  prompt: string;
  maxTurns: number;
  tools: AgentTool[];
  /** allow_tools: false on this request. */
  toolsDisabled?: boolean;
  history: TranscriptMessage[];
  sessionEvents: RunEvent[];
  warnings: string[];
  turnOffset: number;
  isContinuation: boolean;
  /** Turns the raw result into the envelope's `result` and summary (verify overrides it). */
  finish?: (outcome: RunOutcome) => FinishedRun;
  /** Shapes the `result` of a failed run (verify keeps its full result shape on every path). */
  fail?: (
    error: ErrorObject,
    status: SessionStatus,
    metrics: Metrics,
  ) => { result: Record<string, unknown>; summary?: string; errors?: ErrorObject[] };
  /** Replaces the profile's system prompt (verification brings its own). */
  systemPrompt?: string;
}

export interface RunOutcome {
  result: RunResult;
  metrics: Metrics;
  spec: RunSpec;
}

export interface FinishedRun {
  ok: boolean;
  status: SessionStatus;
  summary: string;
  result: Record<string, unknown>;
  errors: ErrorObject[];
  warnings: string[];
  events: NewEvent[];
  artifacts: { type: string; name: string; mime: string; body: string }[];
}

interface ActiveRun {
  sessionId: string;
  controller: AbortController;
  abortReason: "cancelled" | "interrupted" | null;
  done: Promise<Envelope>;
  listeners: Set<(message: string) => void>;
  lastMessage: string;
}

const HEARTBEAT_FLOOR_MS = 250;
const MIN_OUTPUT_ARTIFACT_CHARS = 50;

export class SessionService {
  readonly config: Config;
  readonly store: SessionStore;
  readonly backend: Backend;
  readonly owner: LockOwner;
  private readonly logger: Logger;
  private readonly tools: ToolProvider;
  private readonly artifacts: ArtifactWriter;
  private readonly active = new Map<string, ActiveRun>();
  private closing = false;

  constructor(deps: ServiceDeps) {
    this.config = deps.config;
    this.store = deps.store;
    this.backend = deps.backend;
    this.logger = deps.logger;
    this.tools = deps.tools ?? (async () => []);
    this.owner = deps.owner ?? createOwner();
    this.artifacts = new ArtifactWriter(deps.config.artifactDir, deps.config.maxArtifactBytes);
  }

  get activeRunCount(): number {
    return this.active.size;
  }

  // ---------------------------------------------------------------- run_task

  async runTask(input: RunTaskInput, ctx: CallContext = {}): Promise<Envelope> {
    const profile = PROFILES[input.system_profile ?? "general"];
    const workflow: Workflow = "run_task";
    if (this.closing) return rejection(workflow, profile.name, shuttingDown());
    const wd = await this.checkWorkingDirectory(input.working_directory);
    if (!wd.ok) return rejection(workflow, profile.name, wd.error);
    const turns = resolveMaxTurns(profile, input.max_turns);
    const warnings: string[] = [];
    if (turns.clamped) {
      warnings.push(
        `max_turns ${input.max_turns} exceeds the ${profile.name} profile cap; using ${turns.value}`,
      );
    }

    let prompt = input.task;
    const attachmentInfo: Record<string, unknown>[] = [];
    if (input.attachments?.length) {
      const att = await readAttachments(input.attachments, {
        cwd: wd.path,
        allowedDirs: this.config.allowedDirs,
        perFileMaxBytes: 256 * 1024,
        totalMaxBytes: 1024 * 1024,
      });
      if (!att.ok) return rejection(workflow, profile.name, att.error);
      warnings.push(...att.warnings);
      for (const a of att.attachments)
        attachmentInfo.push({ path: a.path, bytes: a.bytes, sha256: a.sha256 });
      if (att.attachments.length) prompt = `${formatAttachmentsForPrompt(att.attachments)}\n\n${input.task}`;
    }

    const tools = input.allow_tools === false ? [] : await this.toolsFor(profile, wd.path);
    const now = iso();
    const sessionId = this.newSessionId();
    const startEvents: NewEvent[] = [
      {
        type: "user_input",
        turnIndex: 0,
        payload: prompt === input.task ? { task: input.task } : { task: input.task, prompt },
      },
      { type: "system_prompt_resolved", turnIndex: 0, payload: { profile: profile.name } },
      {
        type: "policy_decision",
        turnIndex: 0,
        payload: {
          working_directory: wd.path,
          max_turns: turns.value,
          allow_tools: input.allow_tools !== false,
          tools: tools.map((t) => t.name),
          attachments: attachmentInfo,
        },
      },
      { type: "provider_request_start", turnIndex: 0, payload: {} },
    ];
    const session = this.store.startNewSession({
      sessionId,
      workflow,
      profile: profile.name,
      backend: this.backend.name,
      workingDirectory: wd.path,
      taskText: input.task,
      owner: this.owner.id,
      lockExpiresAt: this.lockExpiry(),
      now,
      events: startEvents,
    });
    const run = this.execute({
      session,
      workflow,
      profile,
      prompt,
      maxTurns: turns.value,
      tools,
      toolsDisabled: input.allow_tools === false,
      history: [],
      sessionEvents: [],
      warnings,
      turnOffset: 0,
      isContinuation: false,
    });
    return this.awaitRun(run, ctx, workflow, profile.name);
  }

  // ---------------------------------------------------------------- continue_session

  async continueSession(input: ContinueInput, ctx: CallContext = {}): Promise<Envelope> {
    const workflow: Workflow = "continue_session";
    const existing = this.store.getSession(input.session_id);
    if (!existing) {
      return rejection(workflow, "general", {
        code: "session_not_found",
        message: `Session not found: ${input.session_id}`,
      });
    }
    const profile = PROFILES[existing.profile] ?? PROFILES.general;
    if (this.closing) return rejection(workflow, profile.name, shuttingDown(), this.echo(existing));
    const wd = await this.checkWorkingDirectory(existing.working_directory ?? undefined);
    if (!wd.ok) return rejection(workflow, profile.name, wd.error, this.echo(existing));
    const turns = resolveMaxTurns(profile, input.max_turns);
    const warnings: string[] = [];
    if (turns.clamped) {
      warnings.push(
        `max_turns ${input.max_turns} exceeds the ${profile.name} profile cap; using ${turns.value}`,
      );
    }
    const tools = await this.toolsFor(profile, wd.path);

    const acquired = this.store.acquire(existing.session_id, this.owner.id, this.lockExpiry(), iso(), []);
    if (!acquired.ok) {
      if (acquired.reason === "not_found") {
        return rejection(workflow, "general", {
          code: "session_not_found",
          message: `Session not found: ${input.session_id}`,
        });
      }
      return rejection(workflow, profile.name, conflictError(acquired.session), this.echo(acquired.session));
    }
    const session = acquired.session;
    // History is read after the lock is ours, so a run that just finished is included.
    const past = this.store.getEvents(session.session_id);
    const hist = buildHistory(past);
    if (hist.truncated)
      warnings.push(`Earlier conversation was shortened to fit the replay budget (${hist.note})`);
    const turnOffset = session.turn_count;
    this.store.renewLock(session.session_id, this.owner.id, this.lockExpiry(), [
      { type: "user_input", turnIndex: turnOffset, payload: { message: input.message } },
      { type: "provider_request_start", turnIndex: turnOffset, payload: {} },
    ]);
    const run = this.execute({
      session,
      workflow,
      profile,
      prompt: input.message,
      maxTurns: turns.value,
      tools,
      history: hist.messages,
      sessionEvents: past.map(toRunEvent),
      warnings,
      turnOffset,
      isContinuation: true,
    });
    return this.awaitRun(run, ctx, workflow, profile.name);
  }

  // ---------------------------------------------------------------- shared run engine

  /** Starts a run whose session is already `running` and locked by us. Never rejects. */
  execute(spec: RunSpec): ActiveRun {
    const controller = new AbortController();
    const run: ActiveRun = {
      sessionId: spec.session.session_id,
      controller,
      abortReason: null,
      done: Promise.resolve(null as unknown as Envelope),
      listeners: new Set(),
      lastMessage: "starting",
    };
    this.active.set(run.sessionId, run);
    run.done = this.drive(run, spec).finally(() => this.active.delete(run.sessionId));
    return run;
  }

  private async drive(run: ActiveRun, spec: RunSpec): Promise<Envelope> {
    const started = Date.now();
    const sessionId = spec.session.session_id;
    const buffered: NewEvent[] = [];
    const ttlMs = this.config.lockTtlSeconds * 1000;
    const renewEvery = Math.max(1000, Math.min(ttlMs / 3, 60_000));
    const renewTimer = setInterval(() => {
      const events = buffered.splice(0);
      if (!this.store.renewLock(sessionId, this.owner.id, this.lockExpiry(), events)) {
        this.logger.warn({ sessionId }, "lost the session lock while running");
      }
    }, renewEvery);
    const heartbeatMs = Math.max(HEARTBEAT_FLOOR_MS, this.config.progressIntervalSeconds * 1000);
    const heartbeat = setInterval(() => {
      const secs = Math.round((Date.now() - started) / 1000);
      this.emit(run, `${run.lastMessage} (${secs}s elapsed)`, false);
    }, heartbeatMs);
    renewTimer.unref();
    heartbeat.unref();

    let env: Envelope;
    try {
      const result = await this.backend.run({
        sessionId,
        workflow: spec.workflow,
        profileName: spec.profile.name,
        readOnly: spec.profile.readOnly,
        systemPrompt: spec.systemPrompt ?? spec.profile.systemPrompt,
        prompt: spec.prompt,
        history: spec.history,
        sessionSummary: spec.session.summary_latest,
        providerSessionId: spec.session.provider_session_id,
        isContinuation: spec.isContinuation,
        workingDirectory: spec.session.working_directory ?? process.cwd(),
        allowedDirs: this.config.allowedDirs,
        maxTurns: spec.maxTurns,
        turnOffset: spec.turnOffset,
        tools: spec.tools,
        toolsDisabled: spec.toolsDisabled,
        sessionEvents: spec.sessionEvents,
        signal: run.controller.signal,
        onProgress: (message) => this.emit(run, message, true),
        onEvent: (e) => buffered.push({ type: e.type, turnIndex: e.turnIndex, payload: e.payload }),
      });
      if (run.abortReason) throw new RunAbortedError(run.abortReason);
      env = this.completeRun(spec, result, buffered.splice(0), Date.now() - started);
    } catch (err) {
      env = this.failRun(run, spec, err, buffered.splice(0), Date.now() - started);
    } finally {
      clearInterval(renewTimer);
      clearInterval(heartbeat);
    }
    return env;
  }

  private completeRun(spec: RunSpec, result: RunResult, events: NewEvent[], durationMs: number): Envelope {
    const metrics = this.metrics(result, durationMs);
    const finished = (spec.finish ?? defaultFinish)({ result, metrics, spec });
    const turnIndex = spec.turnOffset + result.turns;
    const warnings = [...spec.warnings, ...result.warnings, ...finished.warnings];
    const artifactRecords: ArtifactRecord[] = [];
    for (const a of finished.artifacts) {
      try {
        const w = this.artifacts.write({
          sessionId: spec.session.session_id,
          workflow: spec.workflow,
          profile: spec.profile.name,
          type: a.type,
          name: a.name,
          mime: a.mime,
          body: a.body,
          turnIndex,
          producer: spec.workflow,
        });
        artifactRecords.push(w.record);
        if (w.warning) warnings.push(w.warning);
      } catch (err) {
        warnings.push(`Artifact ${a.name} could not be saved: ${(err as Error).message}`);
      }
    }
    const allEvents: NewEvent[] = [
      ...events,
      ...result.warnings.map((w) => ({ type: "backend_warning", turnIndex, payload: { warning: w } })),
      { type: "provider_transcript", turnIndex, payload: { messages: result.transcript } },
      ...finished.events.map((e) => ({ ...e, turnIndex })),
    ];
    const env = envelope({
      ok: finished.ok,
      session_id: spec.session.session_id,
      status: finished.status,
      workflow: spec.workflow,
      profile: spec.profile.name,
      summary: finished.summary,
      result: finished.result,
      artifacts: artifactRecords.map(toRef),
      warnings,
      errors: finished.errors,
    });
    this.store.finishRun({
      sessionId: spec.session.session_id,
      owner: this.owner.id,
      status: finished.status,
      now: iso(),
      turnsAdded: result.turns,
      summary: finished.summary,
      providerSessionId: result.providerSessionId,
      inputTokens: result.usage.inputTokens,
      outputTokens: result.usage.outputTokens,
      costUsd: result.usage.costUsd,
      events: allEvents,
      artifacts: artifactRecords,
      envelope: env,
    });
    return env;
  }

  private failRun(
    run: ActiveRun,
    spec: RunSpec,
    err: unknown,
    events: NewEvent[],
    durationMs: number,
  ): Envelope {
    const turnIndex = spec.turnOffset;
    let status: SessionStatus = "failed";
    let error: ErrorObject;
    const aborted = err instanceof RunAbortedError || run.abortReason !== null;
    if (aborted) {
      const reason = run.abortReason ?? (err as RunAbortedError).reason;
      status = reason;
      error =
        reason === "cancelled"
          ? { code: "run_cancelled", message: "The run was cancelled before it finished" }
          : { code: "run_interrupted", message: "The run was interrupted by a server shutdown" };
    } else if (err instanceof BackendError) {
      error = errorWithFailure(err.code, err.message, err.failure);
    } else {
      this.logger.error({ err, sessionId: spec.session.session_id }, "unexpected error in run");
      error = { code: "provider_runtime_error", message: (err as Error)?.message ?? String(err) };
    }
    const partial = err instanceof BackendError ? err.transcript : [];
    const extras = err instanceof BackendError ? (err.resultExtras ?? {}) : {};
    const backendWarnings = err instanceof BackendError ? err.warnings : [];
    const usage =
      (err instanceof BackendError || err instanceof RunAbortedError) && err.usage
        ? err.usage
        : { inputTokens: 0, outputTokens: 0, costUsd: null };
    const turnsRun = err instanceof BackendError ? err.turns : 0;
    const metrics: Metrics = {
      backend: this.backend.name,
      model: this.config.model,
      turns: turnsRun,
      duration_ms: durationMs,
      input_tokens: usage.inputTokens,
      output_tokens: usage.outputTokens,
      cost_usd: usage.costUsd,
      stop_reason: aborted ? status : "error",
    };
    const shaped = spec.fail?.(error, status, metrics);
    const env = envelope({
      ok: false,
      session_id: spec.session.session_id,
      status,
      workflow: spec.workflow,
      profile: spec.profile.name,
      summary: shaped?.summary ?? error.message,
      result: shaped?.result ?? { output_text: "", metrics, ...extras },
      warnings: [...spec.warnings, ...backendWarnings],
      errors: shaped?.errors ?? [error],
    });
    const failEvents: NewEvent[] = [
      ...events,
      ...(partial.length ? [{ type: "provider_transcript", turnIndex, payload: { messages: partial } }] : []),
      {
        type: aborted
          ? status === "cancelled"
            ? "session_cancelled"
            : "session_interrupted"
          : "error_event",
        turnIndex,
        payload: { error },
      },
    ];
    this.store.finishRun({
      sessionId: spec.session.session_id,
      owner: this.owner.id,
      status,
      now: iso(),
      turnsAdded: turnsRun,
      summary: null,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      costUsd: usage.costUsd,
      events: failEvents,
      artifacts: [],
      envelope: env,
    });
    return env;
  }

  private metrics(result: RunResult, durationMs: number): Metrics {
    return {
      backend: this.backend.name,
      model: result.model || this.config.model,
      turns: result.turns,
      duration_ms: durationMs,
      input_tokens: result.usage.inputTokens,
      output_tokens: result.usage.outputTokens,
      cost_usd: result.usage.costUsd,
      stop_reason: result.stopReason,
    };
  }

  private emit(run: ActiveRun, message: string, remember: boolean): void {
    if (remember) run.lastMessage = message;
    for (const l of run.listeners) {
      try {
        l(message);
      } catch {
        // a broken listener must not break the run
      }
    }
  }

  /** Waits for a run as the calling tool: honours wait_seconds, cancellation and progress. */
  async awaitRun(
    run: ActiveRun,
    ctx: CallContext,
    workflow: Workflow,
    profile: ProfileName,
  ): Promise<Envelope> {
    const listener = ctx.onProgress;
    if (listener) {
      run.listeners.add(listener);
      // The run may have reported its first step before this call got to listen.
      listener(run.lastMessage);
    }
    const onAbort = () => this.abortRun(run, "cancelled");
    if (ctx.signal) {
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener("abort", onAbort, { once: true });
    }
    const waitSeconds = ctx.waitSeconds ?? this.config.defaultWaitSeconds;
    try {
      if (!waitSeconds) return await run.done;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), waitSeconds * 1000);
      });
      const first = await Promise.race([run.done, timeout]);
      clearTimeout(timer);
      if (first) return first;
      return envelope({
        ok: true,
        session_id: run.sessionId,
        status: "running",
        workflow,
        profile,
        summary: `Still running after ${waitSeconds}s. Collect the result with agent_get_session (session_id "${run.sessionId}", wait_seconds up to 300); cancel with agent_cancel_session.`,
        result: {},
      });
    } finally {
      if (listener) run.listeners.delete(listener);
      ctx.signal?.removeEventListener("abort", onAbort);
    }
  }

  private abortRun(run: ActiveRun, reason: "cancelled" | "interrupted"): void {
    if (run.abortReason) return;
    run.abortReason = reason;
    run.controller.abort(new RunAbortedError(reason));
  }

  // ---------------------------------------------------------------- read side

  getSession(sessionId: string): SessionRecord | null {
    return this.store.getSession(sessionId);
  }

  getEvents(sessionId: string, limit: number): StoredEvent[] {
    return this.store.getEvents(sessionId, { limit });
  }

  /** Long-poll: resolves when the session is not running (or the wait is over). */
  async waitForSession(
    sessionId: string,
    waitSeconds: number,
    signal?: AbortSignal,
  ): Promise<SessionRecord | null> {
    const deadline = Date.now() + Math.min(waitSeconds, 300) * 1000;
    for (;;) {
      const s = this.store.getSession(sessionId);
      if (s?.status !== "running" || Date.now() >= deadline || signal?.aborted) return s;
      const run = this.active.get(sessionId);
      const remaining = deadline - Date.now();
      if (run) {
        await Promise.race([run.done.then(() => undefined), sleep(remaining, signal)]);
      } else {
        await sleep(Math.min(250, remaining), signal);
      }
    }
  }

  /** agent_cancel_session: aborts a run of this process; idempotent for finished sessions. */
  async cancelSession(
    sessionId: string,
  ): Promise<{ ok: boolean; status?: SessionStatus; error?: ErrorObject; message: string }> {
    const run = this.active.get(sessionId);
    if (run) {
      this.abortRun(run, "cancelled");
      const env = await run.done;
      return { ok: true, status: env.status, message: "The run was cancelled" };
    }
    const s = this.store.getSession(sessionId);
    if (!s)
      return {
        ok: false,
        error: { code: "session_not_found", message: `Session not found: ${sessionId}` },
        message: "",
      };
    if (s.status === "running") {
      if (isDeadLock(this.owner, s.locked_by, s.lock_expires_at, iso())) {
        this.store.recover((_by, _exp, id) => id === sessionId, iso());
        const after = this.store.getSession(sessionId);
        return {
          ok: true,
          status: after?.status,
          message: "The run's server process is gone; session marked interrupted",
        };
      }
      return {
        ok: false,
        status: s.status,
        error: {
          code: "session_conflict",
          message: `Session ${sessionId} is running in another server process (${s.locked_by}); cancel it there`,
        },
        message: "",
      };
    }
    return {
      ok: true,
      status: s.status,
      message: `Session is not running (status ${s.status}); nothing to cancel`,
    };
  }

  /** Marks dead runs (crashed processes, expired locks) interrupted. Safe with shared state dirs. */
  recover(): string[] {
    const now = iso();
    const ids = this.store.recover((by, exp) => {
      // Our own live runs are never dead, even if the timer to renew their lock was late.
      if (by === this.owner.id) return false;
      return isDeadLock(this.owner, by, exp, now);
    }, now);
    if (ids.length) this.logger.warn({ count: ids.length }, "marked sessions of dead runs interrupted");
    return ids;
  }

  /** Shutdown: refuse new work, interrupt runs in flight, wait for them to record it. */
  async shutdown(timeoutMs = 4000): Promise<void> {
    this.closing = true;
    const runs = [...this.active.values()];
    for (const r of runs) this.abortRun(r, "interrupted");
    await Promise.race([Promise.allSettled(runs.map((r) => r.done)), sleep(timeoutMs)]);
  }

  // ---------------------------------------------------------------- helpers

  async checkWorkingDirectory(
    requested: string | undefined,
  ): Promise<{ ok: true; path: string } | { ok: false; error: ErrorObject }> {
    const cwd = process.cwd();
    const target = requested?.trim() ? requested : cwd;
    const r = await resolveInside(target, { cwd, roots: this.config.allowedDirs });
    if (!r.ok) {
      return {
        ok: false,
        error: {
          code: "policy_denied",
          message: `Working directory '${target}' is outside the allowed directories (${this.config.allowedDirs.join(", ")})`,
        },
      };
    }
    if (!existsSync(r.path) || !statSync(r.path).isDirectory()) {
      return {
        ok: false,
        error: {
          code: "validation_error",
          message: `Working directory does not exist or is not a directory: ${target}`,
        },
      };
    }
    return { ok: true, path: r.path };
  }

  async toolsFor(profile: Profile, workingDirectory: string): Promise<AgentTool[]> {
    const all = await this.tools({ profile, workingDirectory, allowedDirs: this.config.allowedDirs });
    return profile.readOnly ? all.filter((t) => t.readOnly) : all;
  }

  newSessionId(): string {
    return `sess_${randomUUID().replace(/-/g, "").slice(0, 20)}`;
  }

  lockExpiry(): string {
    return new Date(Date.now() + this.config.lockTtlSeconds * 1000).toISOString();
  }

  private echo(s: SessionRecord) {
    return { sessionId: s.session_id, status: s.status };
  }
}

function defaultFinish({ result, metrics }: RunOutcome): FinishedRun {
  const out = result.outputText;
  return {
    ok: true,
    status: "completed",
    summary: summarize(out),
    result: { output_text: out, metrics, ...(result.resultExtras ?? {}) },
    errors: [],
    warnings: [],
    events: [
      {
        type: "provider_response_summary",
        turnIndex: 0,
        payload: { summary: summarize(out), stop_reason: result.stopReason },
      },
    ],
    // As upstream: an output artifact only for answers of 50 characters or more (shorter ones
    // live in the envelope and latest_result).
    artifacts:
      out.trim().length >= MIN_OUTPUT_ARTIFACT_CHARS
        ? [{ type: "output", name: "output.txt", mime: "text/plain", body: out }]
        : [],
  };
}

function conflictError(s: SessionRecord): ErrorObject {
  return {
    code: "session_conflict",
    message:
      s.status === "running"
        ? `Session ${s.session_id} is currently running; wait for it (agent_get_session with wait_seconds) or cancel it`
        : `Session ${s.session_id} is locked by another execution (${s.locked_by})`,
  };
}

function shuttingDown(): ErrorObject {
  return {
    code: "execution_backend_unavailable",
    message: "The server is shutting down; no new runs are accepted",
  };
}

function toRef(a: ArtifactRecord): ArtifactRef {
  return {
    artifact_id: a.artifact_id,
    artifact_type: a.artifact_type,
    logical_name: a.logical_name,
    mime_type: a.mime_type,
    size_bytes: a.size_bytes,
    uri: artifactUri(a.artifact_id),
  };
}

function toRunEvent(e: StoredEvent): RunEvent {
  return { type: e.event_type, turnIndex: e.turn_index, payload: e.payload };
}

export function iso(): string {
  return new Date().toISOString();
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
