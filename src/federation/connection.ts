// One long-lived MCP client per downstream server: connect + paginated discovery under the server's
// discovery timeout, calls under the per-call timeout, restart on the next use after a crash (with
// backoff), and a close that really ends the child process.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, McpError, type Tool } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "../log.js";
import { SERVER_NAME, VERSION } from "../version.js";
import type { DownstreamServerConfig } from "./config.js";

export type ConnectionState = "idle" | "connecting" | "connected" | "disconnected" | "failed" | "closed";

/** Extra variables passed through to stdio children besides the SDK's whitelist (HOME, PATH, ...). */
const EXTRA_INHERITED_ENV = ["TMPDIR", "TEMP", "TMP", "LANG", "LC_ALL", "LC_CTYPE", "TZ"];
const MAX_PAGES = 100;
const STDERR_TAIL_LINES = 20;
const MAX_BACKOFF_MS = 30_000;
/** A call arriving during a backoff shorter than this waits for it instead of failing. */
const MAX_BACKOFF_WAIT_MS = 5_000;
/** Default minimum wait before rediscovering a server whose discovery never succeeded. */
export const DISCOVERY_RETRY_MIN_MS = 5_000;

export class DownstreamError extends Error {
  constructor(
    readonly code:
      | "downstream_discovery_error"
      | "downstream_invocation_error"
      | "downstream_timeout"
      | "downstream_unavailable"
      | "downstream_call_cancelled",
    message: string,
  ) {
    super(message);
    this.name = "DownstreamError";
  }
}

export function childEnvironment(configured: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { ...getDefaultEnvironment() };
  for (const key of EXTRA_INHERITED_ENV) {
    const v = process.env[key];
    if (v !== undefined && !v.startsWith("()")) env[key] = v;
  }
  return { ...env, ...configured };
}

/** Backoff before the n-th consecutive restart attempt: 0, 0, 1 s, 2 s, 4 s ... capped at 30 s. */
export function backoffMs(consecutiveFailures: number): number {
  if (consecutiveFailures <= 1) return 0;
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (consecutiveFailures - 2));
}

function message(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class DownstreamConnection {
  state: ConnectionState = "idle";
  /** Tools from the last successful discovery; null until one succeeds. */
  tools: Tool[] | null = null;
  lastError: string | null = null;
  /** Successful (re)connections after the first. */
  restarts = 0;
  /** Bumped on every successful discovery (the catalog caches against it). */
  discoveryGeneration = 0;

  private client: Client | null = null;
  private transport: Transport | null = null;
  private pid: number | null = null;
  private connecting: Promise<void> | null = null;
  private consecutiveFailures = 0;
  private nextAttemptAt = 0;
  private generation = 0;
  private connectedOnce = false;
  private stderrTail: string[] = [];
  private stderrPartial = "";

  constructor(
    readonly config: DownstreamServerConfig,
    private readonly logger: Logger,
    private readonly onDiscovered: (conn: DownstreamConnection) => void = () => {},
    private readonly discoveryRetryMinMs = DISCOVERY_RETRY_MIN_MS,
  ) {}

  get name(): string {
    return this.config.name;
  }

  get connected(): boolean {
    return this.state === "connected";
  }

  get childPid(): number | null {
    return this.pid;
  }

  /** Milliseconds until a restart may be attempted (0 = now). */
  backoffRemainingMs(): number {
    return Math.max(0, this.nextAttemptAt - Date.now());
  }

  /** Connects and discovers, sharing an attempt already in flight. Rejects with DownstreamError. */
  connect(): Promise<void> {
    if (this.state === "closed")
      return Promise.reject(new DownstreamError("downstream_unavailable", "federation is closed"));
    if (this.state === "connected") return Promise.resolve();
    this.connecting ??= this.doConnect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  /** The connection attempt in flight, if any (never rejects). */
  inFlight(): Promise<void> | null {
    return this.connecting ? this.connecting.catch(() => {}) : null;
  }

  /** Connected client, (re)starting the server if needed (after its backoff). */
  async ensureConnected(signal?: AbortSignal): Promise<Client> {
    if (this.state === "closed") throw new DownstreamError("downstream_unavailable", "federation is closed");
    if (this.state !== "connected" || !this.client) {
      const wait = this.backoffRemainingMs();
      if (wait > MAX_BACKOFF_WAIT_MS) {
        throw new DownstreamError(
          "downstream_unavailable",
          `server '${this.name}' is unavailable (${this.lastError ?? "not connected"}); next restart in ${Math.ceil(wait / 1000)}s`,
        );
      }
      if (wait > 0) await sleep(wait, signal);
      await this.connect();
    }
    if (!this.client)
      throw new DownstreamError("downstream_unavailable", `server '${this.name}' is not connected`);
    return this.client;
  }

  private async doConnect(): Promise<void> {
    const gen = ++this.generation;
    const cfg = this.config;
    const timeoutMs = cfg.discoveryTimeoutSeconds * 1000;
    this.state = "connecting";
    let transport: Transport;
    if (cfg.transport === "stdio") {
      const stdio = new StdioClientTransport({
        command: cfg.command,
        args: cfg.args,
        env: childEnvironment(cfg.env),
        cwd: cfg.cwd ?? undefined,
        stderr: "pipe",
      });
      stdio.stderr?.on("data", (chunk: Buffer) => this.onStderr(chunk));
      transport = stdio;
    } else {
      transport = new StreamableHTTPClientTransport(new URL(cfg.url), {
        requestInit: { headers: { ...cfg.headers } },
        reconnectionOptions: {
          maxRetries: 0,
          initialReconnectionDelay: 1000,
          maxReconnectionDelay: 1000,
          reconnectionDelayGrowFactor: 1,
        },
      });
    }
    const client = new Client({ name: SERVER_NAME, version: VERSION }, { capabilities: {} });
    client.onclose = () => this.onClosed(gen);
    client.onerror = (err) => {
      this.logger.debug({ server: this.name, err: message(err) }, "federation: downstream transport error");
    };
    this.client = client;
    this.transport = transport;
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_r, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(
          new DownstreamError(
            "downstream_discovery_error",
            `discovery timed out after ${cfg.discoveryTimeoutSeconds}s`,
          ),
        );
      }, timeoutMs);
    });
    try {
      const tools = await Promise.race([
        (async () => {
          await client.connect(transport, { timeout: timeoutMs, signal: abort.signal });
          if (transport instanceof StdioClientTransport) this.pid = transport.pid;
          return this.listAllTools(client, timeoutMs, abort.signal);
        })(),
        deadline,
      ]);
      if (gen !== this.generation || (this.state as ConnectionState) === "closed") {
        throw new DownstreamError("downstream_unavailable", "federation is closed");
      }
      this.tools = tools;
      this.state = "connected";
      this.lastError = null;
      this.discoveryGeneration++;
      if (this.connectedOnce) this.restarts++;
      this.connectedOnce = true;
      this.logger.info(
        { server: this.name, transport: cfg.transport, tools: tools.length, restart: this.restarts > 0 },
        `federation: server '${this.name}' connected, ${tools.length} tool(s) discovered`,
      );
      this.onDiscovered(this);
    } catch (err) {
      const msg = err instanceof DownstreamError ? err.message : `cannot connect: ${message(err)}`;
      if ((this.state as ConnectionState) !== "closed") {
        this.recordFailure(msg);
        this.logger.warn(
          { server: this.name, error: msg, stderr_tail: this.stderrTail.slice(-5) },
          `federation: server '${this.name}' discovery failed: ${msg}`,
        );
      }
      this.generation++; // ignore the close event of this attempt
      await this.dropClient(client, transport);
      if (this.client === client) this.client = null;
      throw err instanceof DownstreamError ? err : new DownstreamError("downstream_discovery_error", msg);
    } finally {
      clearTimeout(timer);
    }
  }

  private async listAllTools(client: Client, timeoutMs: number, signal: AbortSignal): Promise<Tool[]> {
    const tools: Tool[] = [];
    const cursors = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      // No signal here: the discovery deadline closes the transport, which rejects this request
      // (a signal per page would pile abort listeners onto one AbortSignal).
      if (signal.aborted) throw new DownstreamError("downstream_discovery_error", "discovery aborted");
      const res = await client.listTools(cursor ? { cursor } : undefined, { timeout: timeoutMs });
      tools.push(...res.tools);
      const next = res.nextCursor;
      if (!next) return tools;
      if (cursors.has(next)) {
        this.logger.warn(
          { server: this.name },
          `federation: server '${this.name}' repeated a tools/list cursor; stopping`,
        );
        return tools;
      }
      cursors.add(next);
      cursor = next;
    }
    this.logger.warn(
      { server: this.name, pages: MAX_PAGES },
      `federation: server '${this.name}' has more than ${MAX_PAGES} tools/list pages; the rest are ignored`,
    );
    return tools;
  }

  private recordFailure(msg: string): void {
    this.consecutiveFailures++;
    // A server that never completed discovery has no tools to call; its background rediscovery
    // (Federation.ready) waits at least discoveryRetryMinMs.
    const min = this.tools ? 0 : this.discoveryRetryMinMs;
    this.nextAttemptAt = Date.now() + Math.max(min, backoffMs(this.consecutiveFailures));
    this.lastError = msg;
    this.state = this.tools ? "disconnected" : "failed";
  }

  private onClosed(gen: number): void {
    // While connecting, doConnect's own failure path records the failure (once).
    if (gen !== this.generation || this.state === "closed" || this.state === "connecting") return;
    // Unexpected: the child exited or the transport dropped.
    this.generation++;
    this.client = null;
    this.transport = null;
    this.pid = null;
    this.recordFailure("server connection closed (process exited?)");
    this.logger.warn(
      { server: this.name, stderr_tail: this.stderrTail.slice(-5) },
      `federation: server '${this.name}' disconnected; it will be restarted on next use`,
    );
  }

  private onStderr(chunk: Buffer): void {
    const text = this.stderrPartial + chunk.toString("utf8");
    const lines = text.split(/\r?\n/);
    this.stderrPartial = (lines.pop() ?? "").slice(-2000);
    for (const raw of lines) {
      const line = raw.length > 2000 ? `${raw.slice(0, 2000)}...` : raw;
      if (!line.trim()) continue;
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
      this.logger.debug({ server: this.name, stderr: line }, "federation: downstream stderr");
    }
  }

  /** Calls a tool; maps failures to DownstreamError. Restarts the child after a timeout (stdio). */
  async callTool(
    name: string,
    args: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const client = await this.ensureConnected(signal).catch((err) => {
      if (signal.aborted) throw new DownstreamError("downstream_call_cancelled", "call cancelled");
      throw err;
    });
    const timeoutSeconds = this.config.callTimeoutSeconds;
    // A per-call controller linked to the run's signal, so listeners do not pile up on the run's signal.
    const local = new AbortController();
    const onAbort = () => local.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const res = await client.callTool({ name, arguments: args }, undefined, {
        timeout: timeoutSeconds * 1000,
        signal: local.signal,
      });
      this.consecutiveFailures = 0;
      return res as Record<string, unknown>;
    } catch (err) {
      if (signal.aborted) throw new DownstreamError("downstream_call_cancelled", "call cancelled");
      if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) {
        const msg = `call to '${name}' timed out after ${timeoutSeconds}s`;
        if (this.config.transport === "stdio" && this.client === client) {
          // A stdio server that does not answer is presumed stuck: restart it on next use.
          this.logger.warn(
            { server: this.name, tool: name },
            `federation: ${msg}; restarting server '${this.name}'`,
          );
          await this.reset(msg);
        }
        throw new DownstreamError("downstream_timeout", msg);
      }
      if (err instanceof McpError && err.code !== ErrorCode.ConnectionClosed) {
        // The server answered with a protocol error (unknown tool, bad params, output validation).
        throw new DownstreamError("downstream_invocation_error", message(err));
      }
      if (!(err instanceof McpError) && this.client === client) {
        // Transport-level failure (HTTP error, connection refused): start afresh on next use.
        await this.reset(message(err));
      }
      throw new DownstreamError("downstream_invocation_error", message(err));
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Drops the current connection (killing a stdio child); next use reconnects. */
  private async reset(reason: string): Promise<void> {
    const client = this.client;
    const transport = this.transport;
    this.generation++;
    this.client = null;
    this.transport = null;
    this.recordFailure(reason);
    await this.dropClient(client, transport);
  }

  private async dropClient(client: Client | null, transport: Transport | null): Promise<void> {
    const pid = transport instanceof StdioClientTransport ? (transport.pid ?? this.pid) : null;
    if (pid === this.pid) this.pid = null;
    if (transport instanceof StreamableHTTPClientTransport && transport.sessionId) {
      await Promise.race([transport.terminateSession().catch(() => {}), sleep(500)]);
    }
    const closing = (client ?? transport)?.close().catch(() => {});
    await Promise.race([closing, sleep(1000)]);
    if (pid && pidAlive(pid)) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {}
      for (let i = 0; i < 10 && pidAlive(pid); i++) await sleep(50);
      if (pidAlive(pid)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
    }
  }

  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    this.generation++;
    const client = this.client;
    const transport = this.transport;
    this.client = null;
    this.transport = null;
    await this.dropClient(client, transport);
  }
}
