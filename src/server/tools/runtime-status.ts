// agent_get_runtime_status: the active configuration, no side effects.
import { z } from "zod";
import { buildStatus } from "../status.js";
import { defineTool } from "../tool.js";

export const runtimeStatus = defineTool({
  name: "agent_get_runtime_status",
  description: "Version, backend, model, profiles, federation, state; no side effects.",
  input: z.object({}),
  annotations: { title: "Runtime status", readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  invalid: (message) => ({ error: { code: "validation_error", message } }),
  handle: async (_args, ctx) => buildStatus(ctx.status),
});
