// agent_verify_task: evidence-bound, fail-closed verification of a claim.
import { z } from "zod";
import { verifyTask as runVerify, verifyInvalid } from "../../sessions/verify-workflow.js";
import { boolArg, defineTool, intArg, textArg } from "../tool.js";

const input = z.object({
  task: textArg(200_000).describe("The claim: name the artifact and expected state"),
  scope: z.string().max(20_000).nullish(),
  evidence_paths: z
    .array(z.string().max(4096))
    .max(50)
    .default([])
    .describe("Evidence files (allowed dirs); a missing one fails closed"),
  fail_closed: boolArg().default(true).describe("Unclear answers become fail_closed"),
  // system_profile (upstream: accepted and ignored) is still accepted: unknown fields are dropped,
  // and verification always runs with the verification profile.
  wait_seconds: intArg(0, 3600).optional().describe("As in agent_run_task"),
});

export const verifyTask = defineTool({
  name: "agent_verify_task",
  description:
    "Check a claim against evidence files, read-only, fail-closed; returns a verdict and findings.",
  input,
  annotations: { title: "Verify a claim", readOnlyHint: true, destructiveHint: false, openWorldHint: true },
  invalid: (message, _raw, service) =>
    verifyInvalid(message, service?.backend.name, service?.config.model) as unknown as Record<
      string,
      unknown
    >,
  handle: async (args, ctx) =>
    (await runVerify(ctx.service, args, {
      signal: ctx.signal,
      onProgress: ctx.progress,
      waitSeconds: args.wait_seconds,
    })) as unknown as Record<string, unknown>,
});
