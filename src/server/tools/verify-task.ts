// agent_verify_task: evidence-bound, fail-closed verification of a claim.
import { z } from "zod";
import { verifyTask as runVerify, verifyInvalid } from "../../sessions/verify-workflow.js";
import { boolArg, defineTool, envelopeOutput, intArg, textArg } from "../tool.js";

const input = z.object({
  task: textArg(200_000).describe("The claim to verify, naming the artifact and the expected state"),
  scope: z.string().max(20_000).nullish().describe("Optional bounds for the verification"),
  evidence_paths: z
    .array(z.string().max(4096))
    .max(50)
    .default([])
    .describe("Files Claude reads as evidence (inside the allowed dirs); a missing one fails closed"),
  fail_closed: boolArg().default(true).describe("Unclear or insufficient answers become fail_closed"),
  system_profile: z
    .enum(["verification", "general"])
    .default("verification")
    .describe("Always runs as verification"),
  wait_seconds: intArg(0, 3600).optional().describe("As in agent_run_task"),
});

export const verifyTask = defineTool({
  name: "agent_verify_task",
  description:
    "Verify a claim against evidence files, read-only. Returns a verdict (pass, pass_with_restrictions, fail_closed, insufficient_evidence) with findings; fails closed.",
  input,
  output: envelopeOutput,
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
