// agent_continue_session: send a follow-up message to an existing session.
import { z } from "zod";
import { rejection } from "../../sessions/envelope.js";
import { defineTool, intArg, sessionIdArg, textArg } from "../tool.js";

const input = z.object({
  session_id: sessionIdArg(),
  message: textArg(200_000),
  max_turns: intArg(1, 100).optional().describe("Model turns (capped by profile)"),
  wait_seconds: intArg(0, 3600).optional().describe("As in agent_run_task"),
});

export const continueSession = defineTool({
  name: "agent_continue_session",
  description: "Follow up in a session that is not running; Claude sees the whole earlier conversation.",
  input,
  annotations: {
    title: "Continue a session",
    readOnlyHint: false,
    destructiveHint: true,
    openWorldHint: true,
  },
  invalid: (message, raw) =>
    rejection(
      "continue_session",
      "general",
      { code: "validation_error", message },
      { sessionId: typeof raw.session_id === "string" && raw.session_id.length <= 128 ? raw.session_id : "" },
    ) as unknown as Record<string, unknown>,
  handle: async (args, ctx) =>
    (await ctx.service.continueSession(args, {
      signal: ctx.signal,
      onProgress: ctx.progress,
      waitSeconds: args.wait_seconds,
    })) as unknown as Record<string, unknown>,
});
