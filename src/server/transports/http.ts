// streamable-http transport on plain node:http.
//
// - One endpoint, `/mcp` (and `/mcp/`), served directly: no redirect.
// - Stateful MCP sessions: one SDK StreamableHTTPServerTransport plus one createServer() per
//   Mcp-Session-Id, all over the one shared SessionService. Sessions end on DELETE, on idle expiry
//   (no request in flight and none for IDLE_TIMEOUT_MS) and on shutdown.
// - DNS-rebinding protection: the Host header, and the Origin header when a browser sends one, must
//   name an allowed host (CLAUDE_AGENT_MCP_HTTP_ALLOWED_HOSTS, default the loopback names) with the
//   port we listen on; anything else is a 403.
// - Bearer auth when CLAUDE_AGENT_MCP_HTTP_AUTH_TOKEN is set: 401 + WWW-Authenticate without it or
//   with a wrong one; compared in constant time (SHA-256 digests + timingSafeEqual).
// - `GET /healthz`: `{ok, version}`, no auth, no Host check (probes behind proxies send their own
//   Host), nothing secret. Every other path is a 404.
// - Each tool call is its own async request on its own HTTP exchange, so a slow run never holds up
//   another client (or another call of the same client).
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import type { Server as McpServer } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import type { Config } from "../../config.js";
import type { Logger } from "../../log.js";
import type { Runtime } from "../../main.js";
import type { SessionService } from "../../sessions/session-service.js";
import { VERSION } from "../../version.js";
import { createServer } from "../server.js";
import type { StatusSource } from "../status.js";

/** After the runtime has stopped, how long in-flight answers get to reach their clients. */
const SHUTDOWN_DRAIN_MS = 400;

export const MCP_PATHS = new Set(["/mcp", "/mcp/"]);
export const HEALTH_PATH = "/healthz";

const DEFAULTS = {
  /** A session with no request in flight and none for this long is closed (upstream: 30 min). */
  idleTimeoutMs: 30 * 60 * 1000,
  /** Largest POST body read (tool arguments are small; attachments are paths, not contents). */
  maxBodyBytes: 4 * 1024 * 1024,
  /** Open MCP sessions at once; beyond this `initialize` gets a 503. */
  maxSessions: 1000,
};

export interface HttpOptions {
  idleTimeoutMs?: number;
  maxBodyBytes?: number;
  maxSessions?: number;
  /** How often idle sessions are looked for. Default: idleTimeoutMs / 4, at most 60 s. */
  sweepIntervalMs?: number;
}

export interface HttpDeps {
  config: Config;
  service: SessionService;
  status: StatusSource;
  logger: Logger;
}

export interface HttpHandle {
  server: Server;
  /** The bound address, e.g. `http://127.0.0.1:8000/mcp`. */
  url: string;
  address: AddressInfo;
  sessionCount(): number;
  /** Stop accepting connections and new MCP sessions; open sessions keep working. Idempotent. */
  stopAccepting(): void;
  /** Resolves when no POST exchange is open any more (answers delivered), or after timeoutMs. */
  drain(timeoutMs: number): Promise<void>;
  /** Stop accepting, end every MCP session, drop remaining connections. Idempotent. */
  close(): Promise<void>;
}

interface McpSession {
  id: string;
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  lastSeen: number;
  /** POST/DELETE exchanges in flight (GET event streams do not keep a session alive). */
  active: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Host / Origin allowlist

/** `host[:port]` → `hostname:port` (lower case, IPv6 in brackets), or null if it does not parse. */
export function normalizeHostPort(value: string, defaultPort: number): string | null {
  let v = value.trim().toLowerCase();
  if (!v) return null;
  // A bare IPv6 literal (`::1`) has more than one colon and no brackets.
  if (!v.startsWith("[") && (v.match(/:/g)?.length ?? 0) > 1) v = `[${v}]`;
  let url: URL;
  try {
    url = new URL(`http://${v}`);
  } catch {
    return null;
  }
  if (url.username || url.password || (url.pathname !== "/" && url.pathname !== "")) return null;
  if (url.search || url.hash) return null;
  const hasPort = /:\d+$/.test(v);
  const port = hasPort ? Number(v.slice(v.lastIndexOf(":") + 1)) : defaultPort;
  return `${url.hostname}:${port}`;
}

/** The set of `hostname:port` values accepted in Host and Origin. */
export function allowedHostSet(config: Pick<Config, "httpAllowedHosts" | "host">, port: number): Set<string> {
  const out = new Set<string>();
  const entries = [...config.httpAllowedHosts];
  // The configured bind address is reachable by its own name; wildcards are not names.
  if (!["0.0.0.0", "::", "[::]", ""].includes(config.host.trim())) entries.push(config.host);
  for (const e of entries) {
    const n = normalizeHostPort(e, port);
    if (n) out.add(n);
  }
  return out;
}

function checkOrigin(req: IncomingMessage, allowed: Set<string>): void {
  const host = req.headers.host;
  const normalizedHost = host ? normalizeHostPort(host, 80) : null;
  if (!normalizedHost || !allowed.has(normalizedHost)) {
    throw new HttpError(
      403,
      "forbidden_host",
      `Host ${JSON.stringify(clip(host ?? ""))} is not allowed; add it to CLAUDE_AGENT_MCP_HTTP_ALLOWED_HOSTS`,
    );
  }
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let normalizedOrigin: string | null = null;
  try {
    const u = new URL(origin);
    if (u.protocol === "http:" || u.protocol === "https:") {
      normalizedOrigin = `${u.hostname}:${u.port || (u.protocol === "https:" ? 443 : 80)}`;
    }
  } catch {
    normalizedOrigin = null;
  }
  if (!normalizedOrigin || !allowed.has(normalizedOrigin)) {
    throw new HttpError(
      403,
      "forbidden_origin",
      `Origin ${JSON.stringify(clip(origin))} is not allowed; add its host:port to CLAUDE_AGENT_MCP_HTTP_ALLOWED_HOSTS`,
    );
  }
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}

// ---------------------------------------------------------------------------------------------
// Bearer auth

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

function makeAuthCheck(token: string | null): (req: IncomingMessage) => void {
  if (!token) return () => {};
  const expected = digest(token);
  return (req) => {
    const header = req.headers.authorization;
    const m = typeof header === "string" ? /^Bearer[ \t]+(.+)$/i.exec(header.trim()) : null;
    if (!m) {
      throw new HttpError(401, "unauthorized", "Missing bearer token (Authorization: Bearer <token>)", {
        "WWW-Authenticate": 'Bearer realm="claude-agent-mcp"',
      });
    }
    const given = digest(m[1]!.trim());
    if (!timingSafeEqual(given, expected)) {
      throw new HttpError(401, "unauthorized", "Invalid bearer token", {
        "WWW-Authenticate": 'Bearer realm="claude-agent-mcp", error="invalid_token"',
      });
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Responses and bodies

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(text);
}

function sendHttpError(res: ServerResponse, err: HttpError): void {
  sendJson(res, err.status, { error: { code: err.code, message: err.message } }, err.headers);
}

/** JSON-RPC shaped error, as the SDK itself answers MCP-level problems. */
function sendRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { jsonrpc: "2.0", error: { code, message }, id: null });
}

/**
 * Reads a POST body up to maxBytes. Past the cap the rest is discarded as it arrives (never
 * buffered), so the client still gets a clean 413 on a connection that stays usable.
 */
function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const tooLarge = () =>
    new HttpError(413, "payload_too_large", `Request body must not exceed ${maxBytes} bytes`);
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        chunks.length = 0;
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks).toString("utf8"));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

function pathOf(req: IncomingMessage): string {
  const raw = req.url ?? "/";
  const q = raw.search(/[?#]/);
  return q === -1 ? raw : raw.slice(0, q);
}

function sessionHeader(req: IncomingMessage): string | undefined {
  const v = req.headers["mcp-session-id"];
  return Array.isArray(v) ? v[0] : v;
}

// ---------------------------------------------------------------------------------------------
// The server

/** Starts listening on config.host:config.port. Rejects with a one-line message if it cannot bind. */
export async function startHttp(deps: HttpDeps, opts: HttpOptions = {}): Promise<HttpHandle> {
  const { config, logger } = deps;
  const idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs;
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULTS.maxBodyBytes;
  const maxSessions = opts.maxSessions ?? DEFAULTS.maxSessions;
  const sweepIntervalMs = opts.sweepIntervalMs ?? Math.min(Math.max(idleTimeoutMs / 4, 10), 60_000);
  const checkAuth = makeAuthCheck(config.httpAuthToken);
  const sessions = new Map<string, McpSession>();
  let allowed = allowedHostSet(config, config.port);
  let closing = false;
  /** POST/DELETE exchanges whose response has not finished (tool calls in progress). */
  const openExchanges = new Set<ServerResponse>();
  let onDrained: (() => void) | null = null;
  const track = (res: ServerResponse) => {
    openExchanges.add(res);
    res.once("close", () => {
      openExchanges.delete(res);
      if (openExchanges.size === 0) onDrained?.();
    });
  };

  const endSession = async (s: McpSession, why: string) => {
    if (!sessions.delete(s.id)) return;
    logger.debug({ mcpSession: s.id, why }, "http session closed");
    await s.transport.close().catch(() => {});
    await s.server.close().catch(() => {});
  };

  const newSession = async (): Promise<StreamableHTTPServerTransport> => {
    const server = createServer({ service: deps.service, status: deps.status, logger });
    let session: McpSession | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      maxRequestBodySize: maxBodyBytes,
      onsessioninitialized: (id) => {
        session = { id, transport, server, lastSeen: Date.now(), active: 1 };
        sessions.set(id, session);
        logger.debug({ mcpSession: id, sessions: sessions.size }, "http session opened");
      },
    });
    transport.onclose = () => {
      if (session) void endSession(session, "transport closed");
    };
    transport.onerror = (err) => logger.debug({ err: err.message }, "http transport error");
    await server.connect(transport);
    return transport;
  };

  const handleMcp = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? "GET";
    if (method !== "POST" && method !== "GET" && method !== "DELETE") {
      throw new HttpError(405, "method_not_allowed", `Method ${method} is not allowed on /mcp`, {
        Allow: "GET, POST, DELETE",
      });
    }
    checkAuth(req);
    if (method !== "GET") track(res);
    let body: unknown;
    if (method === "POST") {
      const text = await readBody(req, maxBodyBytes);
      try {
        body = JSON.parse(text);
      } catch {
        sendRpcError(res, 400, -32700, "Parse error: Invalid JSON");
        return;
      }
    }
    const id = sessionHeader(req);
    if (id !== undefined) {
      const s = sessions.get(id);
      if (!s) {
        sendRpcError(res, 404, -32001, "Session not found");
        return;
      }
      const counts = method !== "GET";
      s.lastSeen = Date.now();
      if (counts) {
        s.active++;
        res.once("close", () => {
          s.active--;
          s.lastSeen = Date.now();
        });
      }
      await s.transport.handleRequest(req, res, body);
      return;
    }
    const isInit =
      method === "POST" && (Array.isArray(body) ? body.some(isInitializeRequest) : isInitializeRequest(body));
    if (!isInit) {
      sendRpcError(res, 400, -32000, "Bad Request: Mcp-Session-Id header is required");
      return;
    }
    if (closing) throw new HttpError(503, "shutting_down", "The server is shutting down");
    if (sessions.size >= maxSessions) {
      throw new HttpError(503, "too_many_sessions", `Too many open MCP sessions (${maxSessions})`);
    }
    const transport = await newSession();
    res.once("close", () => {
      const s = transport.sessionId ? sessions.get(transport.sessionId) : undefined;
      if (s) {
        s.active--;
        s.lastSeen = Date.now();
      } else {
        // initialize was refused by the SDK (bad headers): nothing to keep.
        void transport.close().catch(() => {});
      }
    });
    await transport.handleRequest(req, res, body);
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const path = pathOf(req);
      if (path === HEALTH_PATH) {
        if (req.method !== "GET" && req.method !== "HEAD") {
          throw new HttpError(
            405,
            "method_not_allowed",
            `Method ${req.method} is not allowed on ${HEALTH_PATH}`,
            {
              Allow: "GET, HEAD",
            },
          );
        }
        sendJson(res, 200, { ok: true, version: VERSION });
        return;
      }
      checkOrigin(req, allowed);
      if (!MCP_PATHS.has(path)) throw new HttpError(404, "not_found", "Not found; the MCP endpoint is /mcp");
      await handleMcp(req, res);
    } catch (err) {
      if (err instanceof HttpError) {
        if (err.status >= 500 || err.status === 401 || err.status === 403) {
          logger.info({ status: err.status, code: err.code, method: req.method }, "http request refused");
        }
        sendHttpError(res, err);
        return;
      }
      logger.error({ err: (err as Error).message }, "http request failed");
      if (!res.headersSent) sendHttpError(res, new HttpError(500, "internal_error", "Internal server error"));
      else res.destroy();
    }
  };

  const server = createHttpServer((req, res) => void onRequest(req, res));
  // A request (headers and body) must arrive within a minute. This bounds slow senders only: the
  // answer to a tool call may stream for as long as the run takes.
  server.requestTimeout = 60_000;
  server.headersTimeout = 30_000;
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      reject(new Error(listenErrorMessage(err, config.host, config.port)));
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(config.port, config.host);
  });
  server.on("error", (err) => logger.error({ err: err.message }, "http server error"));

  const address = server.address() as AddressInfo;
  if (address.port !== config.port) allowed = allowedHostSet(config, address.port);
  const hostForUrl = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${hostForUrl}:${address.port}/mcp`;

  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const s of sessions.values()) {
      if (s.active <= 0 && now - s.lastSeen > idleTimeoutMs) void endSession(s, "idle");
    }
  }, sweepIntervalMs);
  sweeper.unref();

  let stopped: Promise<void> | null = null;
  const stopAccepting = () => {
    closing = true;
    stopped ??= new Promise<void>((r) => server.close(() => r()));
  };
  const drain = (timeoutMs: number) =>
    new Promise<void>((resolve) => {
      if (openExchanges.size === 0) return resolve();
      const t = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(t);
        onDrained = null;
        resolve();
      }
      onDrained = done;
    });
  let closed: Promise<void> | null = null;
  const close = () => {
    closed ??= (async () => {
      stopAccepting();
      clearInterval(sweeper);
      await Promise.all([...sessions.values()].map((s) => endSession(s, "shutdown")));
      server.closeIdleConnections();
      // Whatever is still open (event streams, half-sent responses) is cut.
      const t = setTimeout(() => server.closeAllConnections(), 250);
      t.unref();
      await stopped;
      clearTimeout(t);
    })();
    return closed;
  };

  return { server, url, address, sessionCount: () => sessions.size, stopAccepting, drain, close };
}

function listenErrorMessage(err: NodeJS.ErrnoException, host: string, port: number): string {
  const where = `${host}:${port}`;
  switch (err.code) {
    case "EADDRINUSE":
      return `cannot listen on ${where}: address already in use (choose another --port / CLAUDE_AGENT_MCP_PORT)`;
    case "EACCES":
      return `cannot listen on ${where}: permission denied (ports below 1024 need privileges)`;
    case "EADDRNOTAVAIL":
      return `cannot listen on ${where}: address not available on this machine (CLAUDE_AGENT_MCP_HOST)`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot listen on ${where}: host name does not resolve (CLAUDE_AGENT_MCP_HOST)`;
    default:
      return `cannot listen on ${where}: ${err.message}`;
  }
}

/**
 * Runs the streamable-http transport for the process and returns the process's shutdown, which
 * wraps the runtime's: stop accepting connections and sessions, let the runtime interrupt in-flight
 * runs (their callers still get the `interrupted` envelope) and close the DB, then end every MCP
 * session and drop what is left. `onClose` is called if the listener goes away on its own.
 */
export async function serveHttp(
  rt: Runtime,
  onClose: () => void,
  opts: HttpOptions = {},
): Promise<(reason: string) => Promise<void>> {
  const handle = await startHttp(
    { config: rt.config, service: rt.service, status: rt.status, logger: rt.logger },
    opts,
  );
  let shuttingDown = false;
  let done: Promise<void> | null = null;
  const shutdown = (reason: string) => {
    shuttingDown = true;
    done ??= (async () => {
      handle.stopAccepting();
      try {
        // SessionService.shutdown bounds itself (4 s), inside the process's 5 s exit budget.
        await rt.shutdown(reason);
        // Interrupted runs answer their callers; give those answers a moment to go out.
        await handle.drain(SHUTDOWN_DRAIN_MS);
      } finally {
        await handle.close();
      }
    })();
    return done;
  };
  handle.server.once("close", () => {
    if (!shuttingDown) onClose();
  });
  rt.logger.info(
    {
      url: handle.url,
      auth: rt.config.httpAuthToken ? "bearer" : "none",
      allowedHosts: rt.config.httpAllowedHosts,
    },
    `listening on ${handle.url}`,
  );
  return shutdown;
}
