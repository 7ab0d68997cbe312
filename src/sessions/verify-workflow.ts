// agent_verify_task: evidence-bound, fail-closed verification. Preflight and evidence checks run
// before any session exists (a missing or refused evidence path fails early); the run itself is an
// ordinary session run with a read-only profile, the evidence in the prompt, and (api backend) a
// structured submit_verdict tool. Every path returns the full verify result shape.
import { PROFILES } from "../policy/profiles.js";
import {
  type BackendName,
  buildVerificationPrompt,
  buildVerificationReport,
  DEFAULT_EVIDENCE_LIMITS,
  emptyMetrics,
  emptyOutputFailure,
  evidenceEntries,
  failedRunOutcome,
  hasAnswer,
  inspectEvidence,
  missingEvidenceOutcome,
  type PreflightLint,
  refusedEvidenceOutcome,
  rejectedOutcome,
  resolveVerdict,
  runPreflight,
  submitVerdictAgentTool,
  unavailableOutcome,
  type VerifyOutcome,
  verificationSystemPrompt,
  verifiedOutcome,
} from "../verification/index.js";
import { type Envelope, envelope } from "./envelope.js";
import { type CallContext, iso, type SessionService } from "./session-service.js";

export interface VerifyInput {
  task: string;
  scope?: string | null;
  evidence_paths: string[];
  fail_closed: boolean;
  wait_seconds?: number;
}

function toEnvelope(o: VerifyOutcome, sessionId = "", status: Envelope["status"] = "failed"): Envelope {
  return envelope({
    ok: o.ok,
    session_id: sessionId,
    status,
    workflow: "verify_task",
    profile: "verification",
    summary: o.summary,
    result: o.result as unknown as Record<string, unknown>,
    warnings: o.warnings,
    errors: o.errors,
  });
}

/** Bad arguments: the full result shape, fail_closed, no session. */
export function verifyInvalid(message: string, backend = "api", model = ""): Envelope {
  return toEnvelope(
    rejectedOutcome({
      preflight: null,
      metrics: emptyMetrics(backend, model),
      code: "validation_error",
      message,
    }),
  );
}

export async function verifyTask(
  service: SessionService,
  input: VerifyInput,
  ctx: CallContext,
): Promise<Envelope> {
  const { config, backend } = service;
  const backendName = backend.name as BackendName;
  const profile = PROFILES.verification;
  const preflight = runPreflight({
    task: input.task,
    scope: input.scope ?? undefined,
    evidence_paths: input.evidence_paths,
  });
  const lint: PreflightLint = preflight;
  const metrics = emptyMetrics(backendName, config.model);

  // Verification works in the server's directory when it is allowed, else in the first allowed dir
  // (the original required the server's cwd to be inside the allowed dirs).
  let wd = await service.checkWorkingDirectory(undefined);
  if (!wd.ok) wd = await service.checkWorkingDirectory(config.allowedDirs[0]);
  if (!wd.ok) return toEnvelope(rejectedOutcome({ preflight: lint, metrics, ...wd.error }));

  const inspection = await inspectEvidence(input.evidence_paths, {
    cwd: wd.path,
    allowedDirs: config.allowedDirs,
    ...DEFAULT_EVIDENCE_LIMITS,
  });
  const evidence = evidenceEntries(inspection.files);
  if (inspection.missing.length) {
    return toEnvelope(
      missingEvidenceOutcome({ preflight: lint, metrics, evidence, missing: inspection.missing }),
    );
  }
  if (inspection.refused.length) {
    return toEnvelope(
      refusedEvidenceOutcome({ preflight: lint, metrics, evidence, refused: inspection.refused }),
    );
  }

  const structured = backendName === "api";
  const tools = [
    ...(await service.toolsFor(profile, wd.path)),
    ...(structured ? [submitVerdictAgentTool()] : []),
  ];
  const prompt = buildVerificationPrompt({
    task: input.task,
    scope: input.scope,
    evidence: inspection.files,
    includeContents: structured,
  });
  const session = service.store.startNewSession({
    sessionId: service.newSessionId(),
    workflow: "verify_task",
    profile: "verification",
    backend: backendName,
    workingDirectory: wd.path,
    taskText: input.task,
    owner: service.owner.id,
    lockExpiresAt: service.lockExpiry(),
    now: iso(),
    events: [
      { type: "user_input", turnIndex: 0, payload: { task: input.task, scope: input.scope ?? null, prompt } },
      {
        type: "policy_decision",
        turnIndex: 0,
        payload: {
          fail_closed: input.fail_closed,
          evidence_paths: input.evidence_paths,
          evidence,
          preflight_lint_codes: preflight.lint_codes,
          tools: tools.map((t) => t.name),
        },
      },
      { type: "provider_request_start", turnIndex: 0, payload: {} },
    ],
  });
  const warnings = [...inspection.warnings];
  const run = service.execute({
    session,
    workflow: "verify_task",
    profile,
    systemPrompt: verificationSystemPrompt({ submitVerdictTool: structured }),
    prompt,
    maxTurns: profile.maxTurnsDefault,
    tools,
    history: [],
    sessionEvents: [],
    warnings,
    turnOffset: 0,
    isContinuation: false,
    finish: ({ result, metrics: m }) => {
      if (!hasAnswer({ outputText: result.outputText, toolCalls: result.toolCalls })) {
        const o = unavailableOutcome({
          preflight: lint,
          metrics: m,
          evidence,
          failure: emptyOutputFailure(backendName),
        });
        return {
          ok: false,
          status: "failed",
          summary: o.summary,
          result: o.result as unknown as Record<string, unknown>,
          errors: o.errors,
          warnings: o.warnings,
          events: [
            { type: "error_event", turnIndex: 0, payload: { error: o.errors[0].code, summary: o.summary } },
          ],
          artifacts: [],
        };
      }
      const verdict = resolveVerdict({
        outputText: result.outputText,
        toolCalls: result.toolCalls,
        failClosed: input.fail_closed,
      });
      const o = verifiedOutcome({ preflight: lint, metrics: m, evidence, verdict });
      const report = buildVerificationReport({
        task: input.task,
        scope: input.scope,
        verdict: verdict.verdict,
        model_verdict: verdict.model_verdict,
        verdict_source: verdict.source === "submit_verdict" ? "submit_verdict" : "text",
        evidence,
        outputText: result.outputText,
        backend: backendName,
        model: m.model,
        createdAt: iso(),
      });
      return {
        ok: o.ok,
        status: "completed",
        summary: o.summary,
        result: { ...(o.result as unknown as Record<string, unknown>), ...(result.resultExtras ?? {}) },
        errors: o.errors,
        warnings: o.warnings,
        events: [
          {
            type: "provider_response_summary",
            turnIndex: 0,
            payload: { verdict: verdict.verdict, summary: o.summary },
          },
          {
            type: "workflow_normalization",
            turnIndex: 0,
            payload: { verdict: verdict.verdict, model_verdict: verdict.model_verdict },
          },
        ],
        artifacts: [
          {
            type: "verification-report",
            name: "verification-report.md",
            mime: "text/markdown",
            body: report,
          },
        ],
      };
    },
    fail: (error, _status, m) => {
      const o = failedRunOutcome({ preflight: lint, metrics: m, evidence, error, backend: backendName });
      return { result: o.result as unknown as Record<string, unknown>, summary: o.summary, errors: o.errors };
    },
  });
  return service.awaitRun(run, ctx, "verify_task", "verification");
}
