// agent_continue_session: send a follow-up message to an existing session.
import { z } from "zod";
import { rejection } from "../../sessions/envelope.js";
import { defineTool, envelopeOutput, intArg, sessionIdArg, textArg } from "../tool.js";

const input = z.object({
  session_id: sessionIdArg().describe("The session to continue"),
  message: textArg(200_000).describe("The follow-up instruction"),
  max_turns: intArg(1, 100).optional().describe("Model turns allowed (capped by the session's profile)"),
  wait_seconds: intArg(0, 3600).optional().describe("As in agent_run_task"),
});

export const continueSession = defineTool({
  name: "agent_continue_session",
  description:
    "Continue a session with a new message. Claude sees the real earlier conversation. Any status but running can be continued.",
  input,
  output: envelopeOutput,
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
