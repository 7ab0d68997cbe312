// agent_run_task: start a new session and run a task in it.
import { z } from "zod";
import { rejection } from "../../sessions/envelope.js";
import { boolArg, defineTool, intArg, textArg } from "../tool.js";

const input = z.object({
  task: textArg(200_000).describe("What to do; name the files and the expected result"),
  system_profile: z
    .enum(["general", "verification"])
    .default("general")
    .describe("general (can edit) or verification (read-only)"),
  working_directory: z.string().max(4096).optional().describe("Inside the allowed dirs"),
  attachments: z.array(z.string().max(4096)).max(50).default([]).describe("Text files given as context"),
  max_turns: intArg(1, 100).optional().describe("Model turns (cap: 50, verification 20)"),
  allow_tools: boolArg().default(true),
  wait_seconds: intArg(0, 3600).optional().describe("Return status running after N s (0: wait to the end)"),
});

export const runTask = defineTool({
  name: "agent_run_task",
  description: "Run a task in a new Claude session; returns session_id, output_text, metrics.",
  input,
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
