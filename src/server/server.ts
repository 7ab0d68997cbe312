// Builds the MCP server: a factory with no module-level state, so tests and the HTTP transport
// can create as many instances as they need over one SessionService.
// We use the low-level Server so that argument validation is ours: bad arguments come back in
// each tool's own error shape (code validation_error) rather than the SDK's bare message.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { Logger } from "../log.js";
import type { SessionService } from "../sessions/session-service.js";
import { SERVER_NAME, VERSION } from "../version.js";
import type { StatusSource } from "./status.js";
import { describeIssues, type ToolDef } from "./tool.js";
import { listArtifacts, readArtifact, registerArtifactResources } from "./tools/artifacts.js";
import { cancelSession } from "./tools/cancel-session.js";
import { continueSession } from "./tools/continue-session.js";
import { getSession } from "./tools/get-session.js";
import { listSessions } from "./tools/list-sessions.js";
import { runTask } from "./tools/run-task.js";
import { runtimeStatus } from "./tools/runtime-status.js";
import { verifyTask } from "./tools/verify-task.js";

export const TOOLS: ToolDef[] = [
  runTask,
  continueSession,
  getSession,
  listSessions,
  verifyTask,
  runtimeStatus,
  cancelSession,
  listArtifacts,
  readArtifact,
] as unknown as ToolDef[];

let listCache: Tool[] | null = null;

/** tools/list payload, computed once per process (schemas are static). */
export function toolList(): Tool[] {
  listCache ??= TOOLS.map((t) => {
    const schema = z.toJSONSchema(t.input, {
      target: "draft-7",
      io: "input",
      unrepresentable: "any",
    }) as Record<string, unknown>;
    delete schema.$schema;
    return {
      name: t.name,
      description: t.description,
      inputSchema: schema as Tool["inputSchema"],
      outputSchema: t.output as Tool["outputSchema"],
      annotations: t.annotations,
    };
  });
  return listCache;
}

export interface ServerDeps {
  service: SessionService;
  status: StatusSource;
  logger: Logger;
}

export function createServer(deps: ServerDeps): Server {
  const server = new Server(
    { name: SERVER_NAME, version: VERSION },
    {
      capabilities: { tools: { listChanged: false }, resources: { listChanged: false } },
      instructions:
        "Hand work to Claude: agent_run_task starts a session, agent_continue_session follows up, agent_verify_task checks a claim against evidence (fail-closed). Long runs: pass wait_seconds and collect with agent_get_session.",
    },
  );
  const byName = new Map(TOOLS.map((t) => [t.name, t]));
  registerArtifactResources(server, deps.service);

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: toolList() }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name } = request.params;
    const raw = (request.params.arguments ?? {}) as Record<string, unknown>;
    const tool = byName.get(name);
    if (!tool) {
      return reply(
        {
          error: {
            code: "tool_not_admitted",
            message: `Unknown tool "${name}". Available tools: ${TOOLS.map((t) => t.name).join(", ")}`,
          },
        },
        true,
      );
    }
    deps.logger.debug({ tool: name }, "tool called");
    const parsed = tool.input.safeParse(raw);
    if (!parsed.success) return reply(tool.invalid(describeIssues(parsed.error), raw), true);

    const token = request.params._meta?.progressToken;
    let step = 0;
    const progress =
      token === undefined
        ? () => {}
        : (message: string) => {
            step++;
            extra
              .sendNotification({
                method: "notifications/progress",
                params: { progressToken: token, progress: step, message },
              })
              .catch(() => {});
          };
    try {
      const result = await tool.handle(parsed.data, {
        service: deps.service,
        status: deps.status,
        signal: extra.signal,
        progress,
      });
      return reply(result, result.ok === false || "error" in result);
    } catch (err) {
      // Handlers return errors as results; reaching here is a bug. No stack trace to the client.
      deps.logger.error({ err, tool: name }, "tool handler failed");
      return reply({ error: { code: "internal_error", message: `Internal error in ${name}` } }, true);
    }
  });
  return server;
}

function reply(result: Record<string, unknown>, isError: boolean): CallToolResult {
  return {
    content: [{ type: "text", text: JSON.stringify(result) }],
    structuredContent: result,
    ...(isError ? { isError: true } : {}),
  };
}
