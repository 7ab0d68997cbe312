// agent_cancel_session: abort a run in flight (the Anthropic request or the claude process tree).
import { z } from "zod";
import { defineTool, sessionIdArg } from "../tool.js";

const input = z.object({ session_id: sessionIdArg() });

export const cancelSession = defineTool({
  name: "agent_cancel_session",
  description:
    "Cancel a running session's run. The session becomes cancelled and can be continued later. Idempotent.",
  input,
  annotations: {
    title: "Cancel a session",
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  },
  invalid: (message, raw) => ({
    ok: false,
    session_id: typeof raw.session_id === "string" ? raw.session_id.slice(0, 128) : "",
    summary: message,
    errors: [{ code: "validation_error", message }],
  }),
  handle: async (args, ctx) => {
    const r = await ctx.service.cancelSession(args.session_id);
    return {
      ok: r.ok,
      session_id: args.session_id,
      ...(r.status ? { status: r.status } : {}),
      summary: r.ok ? r.message : (r.error?.message ?? ""),
      errors: r.error ? [r.error] : [],
    };
  },
});
