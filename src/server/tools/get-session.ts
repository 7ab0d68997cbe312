// agent_get_session: the session detail, its latest result, usage, and optionally its events.
// With wait_seconds it long-polls until the session is no longer running.
import { z } from "zod";
import type { SessionService } from "../../sessions/session-service.js";
import type { SessionRecord } from "../../sessions/store.js";
import { boolArg, defineTool, intArg, sessionIdArg } from "../tool.js";

const input = z.object({
  session_id: sessionIdArg(),
  wait_seconds: intArg(0, 300).optional().describe("Long-poll up to N s"),
  include_events: boolArg().default(false),
  events_limit: intArg(1, 1000).default(100),
});

export function sessionDetail(s: SessionRecord) {
  return {
    session_id: s.session_id,
    workflow: s.workflow,
    profile: s.profile,
    status: s.status,
    created_at: s.created_at,
    updated_at: s.updated_at,
    last_activity_at: s.last_activity_at,
    summary_latest: s.summary_latest,
    artifact_count: s.artifact_count,
    turn_count: s.turn_count,
    request_count: s.request_count,
    working_directory: s.working_directory,
    backend: s.backend ?? null,
    usage: {
      input_tokens: s.input_tokens ?? 0,
      output_tokens: s.output_tokens ?? 0,
      cost_usd: s.cost_usd ?? null,
    },
    latest_result: s.latest_result ? JSON.parse(s.latest_result) : null,
  };
}

export async function readSession(
  service: SessionService,
  args: { session_id: string; wait_seconds?: number; include_events?: boolean; events_limit?: number },
  signal?: AbortSignal,
): Promise<Record<string, unknown>> {
  const s = args.wait_seconds
    ? await service.waitForSession(args.session_id, args.wait_seconds, signal)
    : service.getSession(args.session_id);
  if (!s) return { error: { code: "session_not_found", message: `Session not found: ${args.session_id}` } };
  const detail: Record<string, unknown> = sessionDetail(s);
  if (args.include_events) {
    detail.events = service.getEvents(s.session_id, args.events_limit ?? 100);
  }
  return detail;
}

export const getSession = defineTool({
  name: "agent_get_session",
  description: "Status, usage and latest_result (last envelope) of a session; wait_seconds long-polls.",
  input,
  annotations: { title: "Get a session", readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  invalid: (message) => ({ error: { code: "validation_error", message } }),
  handle: (args, ctx) => readSession(ctx.service, args, ctx.signal),
});
