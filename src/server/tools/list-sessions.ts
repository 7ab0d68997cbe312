// agent_list_sessions: recent sessions, newest first, with optional filters.
import { z } from "zod";
import { defineTool, intArg } from "../tool.js";

const input = z.object({
  limit: intArg(1, 200).default(20),
  status: z.enum(["created", "running", "completed", "failed", "interrupted", "cancelled"]).nullish(),
  workflow: z.enum(["run_task", "continue_session", "verify_task"]).nullish(),
  query: z.string().max(500).nullish().describe("Text in task or summary"),
});

export const listSessions = defineTool({
  name: "agent_list_sessions",
  description: "Recent sessions, newest first; filter by status, workflow or text.",
  input,
  annotations: { title: "List sessions", readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  invalid: (message) => ({ error: { code: "validation_error", message } }),
  handle: async (args, ctx) => ({
    sessions: ctx.service.store.listSessions({
      limit: args.limit,
      status: args.status ?? undefined,
      workflow: args.workflow ?? undefined,
      query: args.query?.trim() || undefined,
    }),
  }),
});
