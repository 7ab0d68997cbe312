// agent_get_runtime_status: the active configuration, no side effects.
import { z } from "zod";
import { buildStatus } from "../status.js";
import { defineTool } from "../tool.js";

export const runtimeStatus = defineTool({
  name: "agent_get_runtime_status",
  description:
    "Show the server's version, backend, model, profiles, federation and state. No side effects; use it as a readiness check.",
  input: z.object({}),
  output: {
    type: "object",
    properties: { ok: { type: "boolean" }, version: { type: "string" } },
    required: ["ok", "version"],
  },
  annotations: { title: "Runtime status", readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  invalid: (message) => ({ error: { code: "validation_error", message } }),
  handle: async (_args, ctx) => buildStatus(ctx.status),
});
