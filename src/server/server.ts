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
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
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

/**
 * Every result is a JSON object carried as structuredContent. Its fields are documented per tool in
 * the README; repeating them here would cost every calling model about 1.5 kB per tools/list.
 */
const OUTPUT_SCHEMA: Tool["outputSchema"] = { type: "object" };

/**
 * tools/list payload, computed once per process (schemas are static). Every MCP client sends it
 * to its model on every turn, so it is kept compact (bench/: under 3.5 kB for the six original
 * tools): descriptions stay whole, but the advertised schemas drop what only our own validation
 * needs (size caps, the session id pattern, empty defaults) and output schemas name the top-level
 * fields and their types only. Arguments are still validated in full by the zod schemas.
 */
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
      inputSchema: compactInput(schema) as Tool["inputSchema"],
      outputSchema: OUTPUT_SCHEMA,
      annotations: advertisedAnnotations(t.annotations),
    };
  });
  return listCache;
}

/**
 * Annotations without the title (UIs show the name) and without hints that state the MCP default
 * (readOnly false, destructive true, idempotent false, openWorld true) — except destructiveHint on
 * tools that change things, which clients such as Codex use to ask for approval.
 */
function advertisedAnnotations(a: ToolDef["annotations"]): ToolDef["annotations"] {
  const out: ToolDef["annotations"] = {};
  if (a.readOnlyHint) out.readOnlyHint = true;
  if (!a.readOnlyHint && a.destructiveHint !== undefined) out.destructiveHint = a.destructiveHint;
  if (a.idempotentHint) out.idempotentHint = true;
  if (a.openWorldHint === false) out.openWorldHint = false;
  return out;
}

const VALIDATION_ONLY = new Set([
  "maxLength",
  "minLength",
  "maxItems",
  "maximum",
  "pattern",
  "additionalProperties",
]);

/**
 * Drops validation-only keywords; `anyOf [X, null]` (an optional field that also accepts null)
 * is advertised as plain X: leaving the field out means the same.
 */
function compactInput(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(compactInput);
  if (!node || typeof node !== "object") return node;
  const src = node as Record<string, unknown>;
  const anyOf = src.anyOf as Record<string, unknown>[] | undefined;
  if (anyOf?.length === 2 && anyOf[1]?.type === "null" && typeof anyOf[0]?.type === "string") {
    const { anyOf: _drop, ...rest } = src;
    return compactInput({ ...rest, ...(anyOf[0] as Record<string, unknown>) });
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) {
    if (VALIDATION_ONLY.has(k)) continue;
    if (k === "default" && Array.isArray(v) && v.length === 0) continue;
    if (k === "minimum" && v === 0) continue;
    out[k] = k === "properties" ? mapValues(v as Record<string, unknown>, compactInput) : compactInput(v);
  }
  return out;
}

function mapValues<T>(o: Record<string, unknown>, f: (v: unknown) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(o)) out[k] = f(v);
  return out;
}

/** One Ajv instance per process, created only if a client ever needs schema validation (elicitation). */
let ajv: AjvJsonSchemaValidator | null = null;
const lazyValidator: jsonSchemaValidator = {
  getValidator: (schema) => {
    ajv ??= new AjvJsonSchemaValidator();
    return ajv.getValidator(schema);
  },
};

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
      // The SDK's default builds an Ajv instance (and compiles its meta-schemas) per Server, i.e.
      // per connection; only elicitation uses it, so it is created on first use and shared.
      jsonSchemaValidator: lazyValidator,
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
    if (!parsed.success) return reply(tool.invalid(describeIssues(parsed.error), raw, deps.service), true);

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
