// The federation: one DownstreamConnection per enabled server, a catalog of `<server>__<tool>` names,
// per-profile visibility, and AgentTool objects that validate, call, cap and audit.
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import type { AgentTool, ToolContext, ToolOutcome } from "../backends/backend.js";
import type { Logger } from "../log.js";
import { PROFILES } from "../policy/profiles.js";
import {
  type DownstreamServerConfig,
  FEDERATION_PROFILES,
  type FederationConfig,
  type FederationProfile,
  NAME_SEPARATOR,
  TOOL_NAME_RE,
} from "./config.js";
import {
  type ConnectionState,
  DISCOVERY_RETRY_MIN_MS,
  DownstreamConnection,
  DownstreamError,
} from "./connection.js";
import { renderToolResult } from "./results.js";
import { type ArgumentValidator, compileArgumentValidator } from "./validate.js";

export type FederationErrorCode =
  | "downstream_tool_not_visible"
  | "downstream_schema_validation_error"
  | "downstream_invocation_error"
  | "downstream_timeout"
  | "downstream_unavailable"
  | "downstream_call_cancelled"
  | "downstream_discovery_error"
  | "downstream_tool_error";

/** What a federation ToolOutcome carries in `audit` (argument names only, never values). */
export interface FederationAudit {
  source: "federation";
  normalized_name: string;
  server: string;
  downstream_name: string;
  /** Sorted argument names. */
  input_keys: string[];
  success: boolean;
  error_message: string | null;
  error_code: FederationErrorCode | null;
  /** False when the call was refused before reaching the server (validation, cancelled). */
  invoked: boolean;
  duration_ms: number;
  /** The result text was cut to the server's max_result_chars. */
  truncated: boolean;
}

export type FederationServerStatus = {
  name: string;
  transport: "stdio" | "http";
  enabled: boolean;
  state: ConnectionState | "disabled";
  connected: boolean;
  /** Tools the server lists (allowlisted or not). */
  tool_count: number;
  /** Discovered tools that are allowlisted (and so offered to the profiles below). */
  allowed_tool_count: number;
  profiles_allowed: FederationProfile[];
  /** Allowlist entries the server does not offer (dead entries). */
  missing_allowed_tools: string[];
  restarts: number;
  error: string | null;
};

export type FederationStatus = {
  enabled: boolean;
  /** True when at least one profile can see at least one tool. */
  active: boolean;
  /** "pending" until the first discovery round has settled. */
  discovery: "not_started" | "pending" | "complete";
  config_path: string | null;
  servers: FederationServerStatus[];
  tools_per_profile: Record<FederationProfile, number>;
};

export interface FederationOptions {
  /** Minimum wait before ready() rediscovers a server whose discovery failed (default 5 s). */
  discoveryRetryMinMs?: number;
}

interface CatalogEntry {
  normalizedName: string;
  conn: DownstreamConnection;
  tool: Tool;
}

const MAX_DESCRIPTION_CHARS = 4000;
const MAX_ERROR_MESSAGE_CHARS = 500;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function toolInputSchema(tool: Tool): Record<string, unknown> {
  const schema = isPlainObject(tool.inputSchema) ? { ...(tool.inputSchema as Record<string, unknown>) } : {};
  delete schema.$schema;
  if (schema.type !== "object") schema.type = "object";
  if (!isPlainObject(schema.properties)) schema.properties = {};
  return schema;
}

export class Federation {
  readonly enabled: boolean;
  private readonly conns: DownstreamConnection[] = [];
  private readonly servers: DownstreamServerConfig[];
  private initialRound: Promise<void> | null = null;
  private discovery: FederationStatus["discovery"] = "not_started";
  private readonly agentTools = new Map<string, { gen: number; tool: AgentTool }>();
  private readonly warnedMissing = new Map<string, string>();
  private readonly warnedCollisions = new Set<string>();
  private closed = false;

  constructor(
    private readonly config: FederationConfig | null,
    private readonly logger: Logger,
    options: FederationOptions = {},
  ) {
    this.enabled = config !== null;
    this.servers = config?.servers ?? [];
    for (const server of this.servers) {
      if (!server.enabled) continue;
      this.conns.push(
        new DownstreamConnection(
          server,
          logger,
          (c) => this.onDiscovered(c),
          options.discoveryRetryMinMs ?? DISCOVERY_RETRY_MIN_MS,
        ),
      );
    }
  }

  /**
   * Starts discovery of every enabled server concurrently, in the background. Returns at once; the
   * MCP handshake is never held up. Safe to call more than once.
   */
  start(): void {
    if (this.initialRound || this.closed) return;
    if (!this.enabled || this.conns.length === 0) {
      this.discovery = "complete";
      this.initialRound = Promise.resolve();
      return;
    }
    this.discovery = "pending";
    this.initialRound = new Promise<void>((resolve) => {
      setImmediate(() => {
        Promise.allSettled(this.conns.map((c) => c.connect())).then(() => {
          this.discovery = "complete";
          this.logSummary();
          resolve();
        });
      });
    });
  }

  /**
   * Waits until discovery has settled (every server connected or failed within its discovery timeout).
   * Never rejects. Servers whose discovery failed are retried in the background (after their backoff),
   * so their tools show up for later runs. `timeoutMs` bounds the wait (tools found so far are used).
   */
  async ready(opts: { timeoutMs?: number } = {}): Promise<void> {
    if (!this.enabled || this.closed) return;
    if (!this.initialRound) this.start();
    const settled = (async () => {
      await this.initialRound;
      await Promise.allSettled(this.conns.map((c) => c.inFlight()).filter((p) => p !== null));
    })();
    if (opts.timeoutMs !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const expired = await Promise.race([
        settled.then(() => false),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(true), opts.timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (expired) return;
    } else {
      await settled;
    }
    for (const c of this.conns) {
      if (c.tools === null && c.state === "failed" && c.backoffRemainingMs() === 0) {
        c.connect().catch(() => {});
      }
    }
  }

  /**
   * The tools visible to a profile, as AgentTools (source "federation"). Call after ready().
   * Visible = discovered, allowlisted, profile in `profiles_allowed`, and, for a read-only profile
   * (verification), flagged read-only (MCP readOnlyHint, or the server's `read_only: true`).
   */
  toolsFor(profile: FederationProfile): AgentTool[] {
    return this.visible(this.catalog(), profile).map((e) => this.agentTool(e));
  }

  private visible(catalog: CatalogEntry[], profile: FederationProfile): CatalogEntry[] {
    const readOnlyProfile = PROFILES[profile]?.readOnly ?? true;
    return catalog.filter(
      (e) =>
        e.conn.config.profilesAllowed.includes(profile) &&
        (!readOnlyProfile || e.conn.config.readOnly || e.tool.annotations?.readOnlyHint === true),
    );
  }

  /** Normalized names visible to a profile (for `downstream_tool_catalog_resolved`). */
  visibleToolNames(profile: FederationProfile): string[] {
    return this.toolsFor(profile).map((t) => t.name);
  }

  status(): FederationStatus {
    const catalog = this.catalog();
    const perProfile = Object.fromEntries(
      FEDERATION_PROFILES.map((p) => [p, this.visible(catalog, p).length]),
    ) as Record<FederationProfile, number>;
    const servers: FederationServerStatus[] = this.servers.map((cfg) => {
      const conn = this.conns.find((c) => c.config === cfg);
      const discovered = conn?.tools ?? null;
      return {
        name: cfg.name,
        transport: cfg.transport,
        enabled: cfg.enabled,
        state: conn ? conn.state : "disabled",
        connected: conn?.connected ?? false,
        tool_count: discovered?.length ?? 0,
        allowed_tool_count: catalog.filter((e) => e.conn === conn).length,
        profiles_allowed: [...cfg.profilesAllowed],
        missing_allowed_tools: discovered
          ? cfg.allowedTools.filter((t) => !discovered.some((d) => d.name === t))
          : [],
        restarts: conn?.restarts ?? 0,
        error: conn?.lastError ?? null,
      };
    });
    return {
      enabled: this.enabled,
      active: Object.values(perProfile).some((n) => n > 0),
      discovery: this.discovery,
      config_path: this.config?.path ?? null,
      servers,
      tools_per_profile: perProfile,
    };
  }

  /** Child process ids of connected stdio servers (tests, diagnostics). */
  childPids(): Record<string, number | null> {
    return Object.fromEntries(this.conns.map((c) => [c.name, c.childPid]));
  }

  /** Closes every client and ends every child process. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled(this.conns.map((c) => c.close()));
  }

  // ---------------------------------------------------------------------------------------------

  /** Allowlisted, validly named tools of every discovered server; first wins on a name collision. */
  private catalog(): CatalogEntry[] {
    const out: CatalogEntry[] = [];
    const seen = new Map<string, string>();
    for (const conn of this.conns) {
      if (!conn.tools) continue;
      for (const tool of conn.tools) {
        if (!conn.config.allowedTools.includes(tool.name)) continue;
        const normalizedName = `${conn.name}${NAME_SEPARATOR}${tool.name}`;
        if (!TOOL_NAME_RE.test(normalizedName)) continue;
        const owner = seen.get(normalizedName);
        if (owner !== undefined) {
          const key = `${normalizedName}\0${conn.name}`;
          if (!this.warnedCollisions.has(key)) {
            this.warnedCollisions.add(key);
            this.logger.warn(
              { tool: normalizedName, server: conn.name, kept: owner },
              `federation: tool name ${normalizedName} of server '${conn.name}' collides with server '${owner}'; skipped`,
            );
          }
          continue;
        }
        seen.set(normalizedName, conn.name);
        out.push({ normalizedName, conn, tool });
      }
    }
    return out;
  }

  private onDiscovered(conn: DownstreamConnection): void {
    const names = new Set((conn.tools ?? []).map((t) => t.name));
    const missing = conn.config.allowedTools.filter((t) => !names.has(t));
    const key = missing.join("\0");
    if (missing.length && this.warnedMissing.get(conn.name) !== key) {
      this.logger.warn(
        { server: conn.name, missing_allowed_tools: missing },
        `federation: server '${conn.name}' does not offer allowlisted tool(s) ${missing.join(", ")}`,
      );
    }
    this.warnedMissing.set(conn.name, key);
  }

  private logSummary(): void {
    const s = this.status();
    const discovered = s.servers.reduce((n, x) => n + x.tool_count, 0);
    const allowed = s.servers.reduce((n, x) => n + x.allowed_tool_count, 0);
    const connected = s.servers.filter((x) => x.connected).length;
    this.logger.info(
      {
        servers: this.conns.length,
        connected,
        discovered,
        allowlisted: allowed,
        tools_per_profile: s.tools_per_profile,
      },
      `federation initialized: ${connected}/${this.conns.length} server(s) connected, ${discovered} tool(s) discovered, ${allowed} allowlisted (general: ${s.tools_per_profile.general}, verification: ${s.tools_per_profile.verification})`,
    );
  }

  /** Dead allowlist entries after discovery, one message per server (for doctor and startup logs). */
  discoveryWarnings(): string[] {
    return this.status()
      .servers.filter((s) => s.missing_allowed_tools.length > 0)
      .map(
        (s) =>
          `federation server '${s.name}': allowed_tools entr${s.missing_allowed_tools.length > 1 ? "ies" : "y"} ${s.missing_allowed_tools.map((t) => JSON.stringify(t)).join(", ")} match no tool the server offers`,
      );
  }

  private agentTool(entry: CatalogEntry): AgentTool {
    const cached = this.agentTools.get(entry.normalizedName);
    if (cached && cached.gen === entry.conn.discoveryGeneration) return cached.tool;
    const tool = this.buildAgentTool(entry);
    this.agentTools.set(entry.normalizedName, { gen: entry.conn.discoveryGeneration, tool });
    return tool;
  }

  private buildAgentTool(entry: CatalogEntry): AgentTool {
    const { conn, tool, normalizedName } = entry;
    const cfg = conn.config;
    const inputSchema = toolInputSchema(tool);
    let validator: ArgumentValidator | null = null;
    const description = (tool.description?.trim() || `Tool from ${cfg.name}`).slice(0, MAX_DESCRIPTION_CHARS);
    const logger = this.logger;
    return {
      name: normalizedName,
      description,
      inputSchema,
      readOnly: cfg.readOnly || tool.annotations?.readOnlyHint === true,
      source: "federation",
      call: async (input: unknown, ctx: ToolContext): Promise<ToolOutcome> => {
        const started = Date.now();
        const args = input === undefined || input === null ? {} : input;
        const audit: FederationAudit = {
          source: "federation",
          normalized_name: normalizedName,
          server: cfg.name,
          downstream_name: tool.name,
          input_keys: isPlainObject(args) ? Object.keys(args).sort() : [],
          success: false,
          error_message: null,
          error_code: null,
          invoked: false,
          duration_ms: 0,
          truncated: false,
        };
        const finish = (content: string, isError: boolean): ToolOutcome => {
          audit.duration_ms = Date.now() - started;
          audit.success = !isError;
          const log = { session_id: ctx.sessionId, turn_index: ctx.turnIndex, ...audit };
          if (isError) logger.warn(log, `federation: ${normalizedName} failed: ${audit.error_message}`);
          else logger.debug(log, `federation: ${normalizedName} ok`);
          return { content, isError, audit: { ...audit } };
        };
        const fail = (code: FederationErrorCode, message: string): ToolOutcome => {
          audit.error_code = code;
          audit.error_message = message.slice(0, MAX_ERROR_MESSAGE_CHARS);
          return finish(`Error: ${message}`, true);
        };
        if (ctx.signal.aborted)
          return fail("downstream_call_cancelled", `call to ${normalizedName} cancelled`);
        if (!isPlainObject(args)) {
          return fail(
            "downstream_schema_validation_error",
            `invalid arguments for ${normalizedName}: arguments must be an object`,
          );
        }
        validator ??= compileArgumentValidator(inputSchema);
        const invalid = validator(args);
        if (invalid)
          return fail(
            "downstream_schema_validation_error",
            `invalid arguments for ${normalizedName}: ${invalid}`,
          );

        audit.invoked = true;
        let result: Record<string, unknown>;
        try {
          result = await conn.callTool(tool.name, args, ctx.signal);
        } catch (err) {
          const code: FederationErrorCode =
            err instanceof DownstreamError ? err.code : "downstream_invocation_error";
          const detail = err instanceof Error ? err.message : String(err);
          return fail(code, `Invocation of '${tool.name}' on server '${cfg.name}' failed: ${detail}`);
        }
        const rendered = renderToolResult(result, cfg.maxResultChars);
        audit.truncated = rendered.truncated;
        if (rendered.isError) {
          audit.error_code = "downstream_tool_error";
          // The downstream's own text may echo argument values: keep it out of the audit record.
          audit.error_message = `tool '${tool.name}' on server '${cfg.name}' returned an error result`;
          return finish(rendered.text || `Error: ${audit.error_message}`, true);
        }
        return finish(rendered.text, false);
      },
    };
  }
}

/** Creates a federation for a validated config (null = federation disabled: no tools, status says so). */
export function createFederation(
  config: FederationConfig | null,
  logger: Logger,
  options: FederationOptions = {},
): Federation {
  return new Federation(config, logger, options);
}
