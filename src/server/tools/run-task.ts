// agent_run_task: start a new session and run a task in it.
import { z } from "zod";
import { rejection } from "../../sessions/envelope.js";
import { boolArg, defineTool, envelopeOutput, intArg, textArg } from "../tool.js";

const input = z.object({
  task: textArg(200_000).describe("What Claude should do. Be specific about files and the expected result."),
  system_profile: z
    .enum(["general", "verification"])
    .default("general")
    .describe("general (may edit files) or verification (read-only)"),
  working_directory: z
    .string()
    .max(4096)
    .optional()
    .describe("Directory to work in; must be inside the allowed dirs"),
  attachments: z
    .array(z.string().max(4096))
    .max(50)
    .default([])
    .describe("Text files given to Claude as context (inside the allowed dirs)"),
  max_turns: intArg(1, 100).optional().describe("Model turns allowed (capped by the profile: 50 / 20)"),
  allow_tools: boolArg().default(true).describe("false = no tools at all for this run"),
  wait_seconds: intArg(0, 3600)
    .optional()
    .describe(
      "Return status running after this many seconds; collect with agent_get_session. 0 = wait to the end",
    ),
});

export const runTask = defineTool({
  name: "agent_run_task",
  description:
    "Run a task with Claude in a new durable session. Returns an envelope with the session_id, output_text and metrics; continue the session later with agent_continue_session.",
  input,
  output: envelopeOutput,
  annotations: { title: "Run a task", readOnlyHint: false, destructiveHint: true, openWorldHint: true },
  invalid: (message, raw) =>
    rejection("run_task", raw.system_profile === "verification" ? "verification" : "general", {
      code: "validation_error",
      message,
    }) as unknown as Record<string, unknown>,
  handle: async (args, ctx) =>
    (await ctx.service.runTask(args, {
      signal: ctx.signal,
      onProgress: ctx.progress,
      waitSeconds: args.wait_seconds,
    })) as unknown as Record<string, unknown>,
});
