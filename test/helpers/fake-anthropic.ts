/**
 * A fake Anthropic Messages API for tests: a real node:http server on 127.0.0.1 (ephemeral port).
 *
 * - `POST /v1/messages` (also `?beta=true`, as the claude CLI sends it), non-streaming (JSON `Message`)
 *   and streaming (`stream: true` → SSE with `event:` lines, the shape the real API sends).
 * - `POST /v1/messages/count_tokens` answers `{input_tokens}` (a rough estimate); anything else is a 404
 *   with the Anthropic error shape.
 * - Auth: `x-api-key` (claude CLI) or `Authorization: Bearer` (the SDK) must be present, else 401; with
 *   `opts.apiKey` the key must also match.
 * - Replies come from, in order: the queue (`enqueue` / `script`), `fake.handler`, `opts.defaultReply`,
 *   and finally an echo: `"Echo: " + lastUserText(req)`.
 * - Error replies carry `retry-after-ms: 1` by default, so an SDK client that retries does so at once.
 *   Servers under test should still use a low retry count (SDK `maxRetries: 0`,
 *   `CLAUDE_CODE_MAX_RETRIES=0`) so one scripted error is one failed call.
 *
 * Usage:
 *   const fake = await startFakeAnthropic();
 *   fake.script(["hello", toolUseReply("Read", { path: "a.txt" }), errorReply(429)]);
 *   // ANTHROPIC_BASE_URL=fake.url ANTHROPIC_API_KEY=test-key
 *   expect(allText(fake.requests[0])).toContain("task text");
 *   await fake.close();
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

// ---------------------------------------------------------------------------------------------
// Reply types

export interface FakeTextBlock {
  type: "text";
  text: string;
}

export interface FakeToolUseBlock {
  type: "tool_use";
  /** Defaults to a generated `toolu_fake_<n>` id. */
  id?: string;
  name: string;
  input: unknown;
}

export type FakeContentBlock = FakeTextBlock | FakeToolUseBlock;

export type FakeStopReason =
  | "end_turn"
  | "max_tokens"
  | "stop_sequence"
  | "tool_use"
  | "pause_turn"
  | "refusal";

export interface FakeUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

/** A successful assistant message. `text`, `toolUse` and `content` combine in that order. */
export interface FakeMessageReply {
  text?: string;
  toolUse?: Omit<FakeToolUseBlock, "type"> | Array<Omit<FakeToolUseBlock, "type">>;
  content?: FakeContentBlock[];
  /** Default: `tool_use` if any tool_use block is present, else `end_turn`. */
  stop_reason?: FakeStopReason;
  usage?: FakeUsage;
  /** Default: the request's `model`. */
  model?: string;
  id?: string;
  /** Wait this long before answering (abortable; a client disconnect is recorded as `aborted`). */
  delayMs?: number;
  /** Streaming only: wait this long between SSE events (abortable). */
  chunkDelayMs?: number;
  /** Streaming only: send this many SSE events, then destroy the socket (a mid-stream drop). */
  dropAfterEvents?: number;
  headers?: Record<string, string>;
}

/** An HTTP error in the Anthropic error JSON shape `{type:"error", error:{type, message}}`. */
export interface FakeErrorReply {
  status: number;
  /** Defaults: the Anthropic error type for the status and a generic message. */
  error?: { type?: string; message?: string };
  /** Merged over the defaults (`retry-after-ms: 1`, `request-id`). */
  headers?: Record<string, string>;
  delayMs?: number;
  /**
   * Streaming requests only: answer 200, send `message_start`, then an SSE `event: error` with the
   * error body (how the real API reports e.g. `overloaded_error` mid-stream).
   */
  inStream?: boolean;
}

/** Destroy the socket without answering (the client sees a connection error). */
export interface FakeDropReply {
  drop: true;
  delayMs?: number;
}

/** Never answer; the request ends only when the client goes away (recorded as `aborted`). */
export interface FakeHangReply {
  hang: true;
}

/** `string` = a text reply; a function is called with the request when the reply is used. */
export type FakeReply =
  | string
  | FakeMessageReply
  | FakeErrorReply
  | FakeDropReply
  | FakeHangReply
  | ((req: FakeRequest) => FakeReply | Promise<FakeReply>);

export type FakeHandler = (
  req: FakeRequest,
) => FakeReply | undefined | null | Promise<FakeReply | undefined | null>;

// ---------------------------------------------------------------------------------------------
// Request log

/** Loose view of a Messages API request body (whatever the client sent, parsed). */
export interface FakeMessagesBody {
  model?: string;
  max_tokens?: number;
  stream?: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: request bodies are free-form JSON
  system?: string | Array<any>;
  // biome-ignore lint/suspicious/noExplicitAny: request bodies are free-form JSON
  messages?: Array<{ role: string; content: string | Array<any> }>;
  // biome-ignore lint/suspicious/noExplicitAny: request bodies are free-form JSON
  tools?: Array<any>;
  [key: string]: unknown;
}

export interface FakeRequest {
  /** 0-based position in `fake.requests`. */
  index: number;
  method: string;
  /** Path with query, e.g. `/v1/messages?beta=true`. */
  url: string;
  /** Lower-cased header names; `x-api-key` and `authorization` values masked (`***` + last 4 chars). */
  headers: Record<string, string>;
  /** Which auth header carried the key. */
  auth: "x-api-key" | "bearer" | "none";
  /** Parsed JSON body (`{}` if it did not parse). */
  body: FakeMessagesBody;
  stream: boolean;
  /** `Date.now()` when the request arrived / when it ended (answer sent, dropped or aborted). */
  time: number;
  endTime?: number;
  /** The client went away before the answer was complete. */
  aborted: boolean;
  /** What the fake did: `message`, `error`, `drop`, `hang`, or `rejected` (auth / bad body). */
  outcome?: "message" | "error" | "drop" | "hang" | "rejected";
  /** HTTP status sent, if any. */
  status?: number;
}

// ---------------------------------------------------------------------------------------------
// Builders

export function textReply(text: string, extra: Omit<FakeMessageReply, "text"> = {}): FakeMessageReply {
  return { ...extra, text };
}

/** One or more tool calls (stop_reason `tool_use`), optionally preceded by text. */
export function toolUseReply(
  name: string,
  input: unknown,
  extra: Omit<FakeMessageReply, "toolUse"> & { toolUseId?: string } = {},
): FakeMessageReply {
  const { toolUseId, ...rest } = extra;
  return { ...rest, toolUse: { id: toolUseId, name, input } };
}

export function errorReply(
  status: number,
  message?: string,
  extra: Omit<FakeErrorReply, "status"> = {},
): FakeErrorReply {
  return { ...extra, status, error: { ...extra.error, message: message ?? extra.error?.message } };
}

// ---------------------------------------------------------------------------------------------
// Text helpers

function blockTexts(content: unknown, out: string[], opts: { toolInputs: boolean }): void {
  if (typeof content === "string") {
    out.push(content);
    return;
  }
  if (!Array.isArray(content)) return;
  // biome-ignore lint/suspicious/noExplicitAny: content blocks are free-form JSON
  for (const b of content as any[]) {
    if (!b || typeof b !== "object") continue;
    if (b.type === "text" && typeof b.text === "string") out.push(b.text);
    else if (b.type === "tool_result") blockTexts(b.content, out, opts);
    else if (b.type === "tool_use" && opts.toolInputs) out.push(JSON.stringify(b.input ?? null));
    else if (b.type === "thinking" && typeof b.thinking === "string") out.push(b.thinking);
    else if (b.type === "document" && b.source && typeof b.source.data === "string") out.push(b.source.data);
  }
}

function bodyOf(req: FakeRequest | FakeMessagesBody): FakeMessagesBody {
  return "body" in req && typeof req.body === "object" && req.body !== null && "index" in req
    ? (req as FakeRequest).body
    : (req as FakeMessagesBody);
}

/**
 * Text of the LAST `role: "user"` message (the claude CLI appends a `role: "system"` message after it):
 * its text blocks and tool_result contents, joined with "\n". Text blocks that are only a
 * `<system-reminder>...</system-reminder>` (claude CLI context) are skipped.
 */
export function lastUserText(req: FakeRequest | FakeMessagesBody): string {
  const messages = bodyOf(req).messages ?? [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role !== "user") continue;
    const out: string[] = [];
    blockTexts(m.content, out, { toolInputs: false });
    return out.filter((t) => !/^\s*<system-reminder>[\s\S]*<\/system-reminder>\s*$/.test(t)).join("\n");
  }
  return "";
}

/**
 * Every text the model would see, joined with "\n": the system prompt, all messages' text blocks,
 * tool_result contents and tool_use inputs (as JSON). Use to assert that e.g. file contents or an
 * earlier assistant answer reached the model.
 */
export function allText(req: FakeRequest | FakeMessagesBody): string {
  const body = bodyOf(req);
  const out: string[] = [];
  blockTexts(body.system, out, { toolInputs: true });
  for (const m of body.messages ?? []) blockTexts(m?.content, out, { toolInputs: true });
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------
// The server

export interface FakeAnthropicOptions {
  /** If set, requests must carry exactly this key (else 401). */
  apiKey?: string;
  /** Fallback used when the queue is empty and `handler` gives nothing. Default: echo. */
  defaultReply?: FakeHandler;
  /** Default usage for message replies. Default `{input_tokens: 10, output_tokens: 5}`. */
  usage?: FakeUsage;
  /** Headers added to every error reply. Default `{"retry-after-ms": "1"}`. */
  errorHeaders?: Record<string, string>;
  /** Characters per text_delta / input_json_delta chunk when streaming. Default 16. */
  chunkSize?: number;
}

export interface FakeAnthropic {
  /** Base URL for ANTHROPIC_BASE_URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Log of every /v1/messages request (including rejected ones), oldest first. */
  readonly requests: FakeRequest[];
  /** /v1/messages requests currently being answered (delays, hangs and streams included). */
  readonly inFlight: number;
  /** Replies not used yet. */
  readonly pending: number;
  /** Fallback consulted when the queue is empty; return undefined to fall through to the default. */
  handler: FakeHandler | undefined;
  enqueue(...replies: FakeReply[]): void;
  /** Replace the queue with these replies. */
  script(replies: FakeReply[]): void;
  /** Clear the queue, the handler and the request log. */
  reset(): void;
  /** Resolve when at least `count` requests have arrived (default: one more than now). */
  waitForRequests(count?: number, timeoutMs?: number): Promise<FakeRequest[]>;
  /** Resolve when `inFlight` is 0. */
  waitForIdle(timeoutMs?: number): Promise<void>;
  /** Destroy open connections and stop listening. */
  close(): Promise<void>;
}

const DEFAULT_ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  408: "timeout_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};

const DEFAULT_ERROR_MESSAGES: Record<number, string> = {
  400: "Invalid request (fake)",
  401: "invalid x-api-key",
  403: "Permission denied (fake)",
  404: "Not found (fake)",
  429: "Rate limited (fake)",
  500: "Internal server error (fake)",
  529: "Overloaded",
};

function maskSecret(v: string): string {
  const raw = v.startsWith("Bearer ") ? v.slice(7) : v;
  const tail = raw.length >= 12 ? raw.slice(-4) : "";
  return (v.startsWith("Bearer ") ? "Bearer " : "") + "***" + tail;
}

function isErrorReply(r: object): r is FakeErrorReply {
  return typeof (r as FakeErrorReply).status === "number";
}

function chunk(s: string, size: number): string[] {
  if (s.length === 0) return [""];
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function startFakeAnthropic(opts: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const queue: FakeReply[] = [];
  const requests: FakeRequest[] = [];
  const sockets = new Set<Socket>();
  const active = new Set<AbortController>();
  const waiters = new Set<() => void>();
  const chunkSize = Math.max(1, opts.chunkSize ?? 16);
  const baseUsage = { input_tokens: 10, output_tokens: 5, ...opts.usage };
  const errorHeaders = { "retry-after-ms": "1", ...opts.errorHeaders };
  const runId = randomBytes(3).toString("hex");
  let inFlight = 0;
  let seq = 0;
  let closed = false;

  const notify = () => {
    for (const w of [...waiters]) w();
  };

  const fake: FakeAnthropic = {
    url: "",
    port: 0,
    requests,
    get inFlight() {
      return inFlight;
    },
    get pending() {
      return queue.length;
    },
    handler: undefined,
    enqueue(...replies) {
      queue.push(...replies);
    },
    script(replies) {
      queue.length = 0;
      queue.push(...replies);
    },
    reset() {
      queue.length = 0;
      requests.length = 0;
      fake.handler = undefined;
    },
    waitForRequests(count, timeoutMs = 10_000) {
      const want = count ?? requests.length + 1;
      return waitUntil(() => requests.length >= want, timeoutMs, `${want} request(s)`).then(() => requests);
    },
    waitForIdle(timeoutMs = 10_000) {
      return waitUntil(() => inFlight === 0, timeoutMs, "inFlight 0");
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const ac of active) ac.abort();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!cond()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `fake-anthropic: timed out after ${timeoutMs} ms waiting for ${what} (requests=${requests.length}, inFlight=${inFlight})`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
    });
  }

  async function pickReply(
    entry: FakeRequest,
  ): Promise<Exclude<FakeReply, string | ((r: FakeRequest) => unknown)>> {
    let r: FakeReply | undefined | null = queue.shift();
    if (r === undefined && fake.handler) r = await fake.handler(entry);
    if ((r === undefined || r === null) && opts.defaultReply) r = await opts.defaultReply(entry);
    if (r === undefined || r === null) r = `Echo: ${lastUserText(entry)}`;
    while (typeof r === "function") r = await r(entry);
    if (typeof r === "string") return { text: r };
    return r;
  }

  function buildMessage(reply: FakeMessageReply, entry: FakeRequest) {
    const content: Array<Record<string, unknown>> = [];
    if (reply.text !== undefined) content.push({ type: "text", text: reply.text });
    const tools =
      reply.toolUse === undefined ? [] : Array.isArray(reply.toolUse) ? reply.toolUse : [reply.toolUse];
    const blocks: FakeContentBlock[] = [
      ...tools.map((t) => ({ ...t, type: "tool_use" as const })),
      ...(reply.content ?? []),
    ];
    for (const b of blocks) {
      if (b.type === "tool_use") {
        content.push({
          type: "tool_use",
          id: b.id ?? `toolu_fake_${runId}_${++seq}`,
          name: b.name,
          input: b.input ?? {},
        });
      } else {
        content.push({ type: "text", text: b.text });
      }
    }
    const hasTool = content.some((b) => b.type === "tool_use");
    const usage = { ...baseUsage, ...reply.usage };
    return {
      id: reply.id ?? `msg_fake_${runId}_${++seq}`,
      type: "message" as const,
      role: "assistant" as const,
      model: reply.model ?? entry.body.model ?? "claude-fake",
      content,
      stop_reason: reply.stop_reason ?? (hasTool ? "tool_use" : "end_turn"),
      stop_sequence: null,
      usage: {
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
        cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
      },
    };
  }

  function sseEvents(msg: ReturnType<typeof buildMessage>): Array<[string, unknown]> {
    const events: Array<[string, unknown]> = [];
    events.push([
      "message_start",
      {
        type: "message_start",
        message: {
          ...msg,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...msg.usage, output_tokens: 1 },
        },
      },
    ]);
    events.push(["ping", { type: "ping" }]);
    msg.content.forEach((block, index) => {
      if (block.type === "tool_use") {
        events.push([
          "content_block_start",
          { type: "content_block_start", index, content_block: { ...block, input: {} } },
        ]);
        for (const part of chunk(JSON.stringify(block.input ?? {}), chunkSize)) {
          events.push([
            "content_block_delta",
            { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: part } },
          ]);
        }
      } else {
        events.push([
          "content_block_start",
          { type: "content_block_start", index, content_block: { type: "text", text: "" } },
        ]);
        for (const part of chunk(String(block.text ?? ""), chunkSize)) {
          events.push([
            "content_block_delta",
            { type: "content_block_delta", index, delta: { type: "text_delta", text: part } },
          ]);
        }
      }
      events.push(["content_block_stop", { type: "content_block_stop", index }]);
    });
    events.push([
      "message_delta",
      {
        type: "message_delta",
        delta: { stop_reason: msg.stop_reason, stop_sequence: null },
        usage: { ...msg.usage },
      },
    ]);
    events.push(["message_stop", { type: "message_stop" }]);
    return events;
  }

  const sse = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

  function sendJson(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(text)),
      ...headers,
    });
    res.end(text);
  }

  function errorBody(status: number, type?: string, message?: string, requestId?: string) {
    return {
      type: "error",
      error: {
        type: type ?? DEFAULT_ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error"),
        message: message ?? DEFAULT_ERROR_MESSAGES[status] ?? `Error ${status} (fake)`,
      },
      ...(requestId ? { request_id: requestId } : {}),
    };
  }

  async function handleMessages(req: IncomingMessage, res: ServerResponse, rawBody: string) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined) continue;
      const val = Array.isArray(v) ? v.join(", ") : v;
      headers[k] = k === "x-api-key" || k === "authorization" ? maskSecret(val) : val;
    }
    let body: FakeMessagesBody = {};
    let parsed = true;
    try {
      const b = JSON.parse(rawBody);
      if (b && typeof b === "object" && !Array.isArray(b)) body = b;
      else parsed = false;
    } catch {
      parsed = false;
    }
    const xKey = req.headers["x-api-key"];
    const authz = req.headers.authorization;
    const bearer =
      typeof authz === "string" && /^Bearer\s+/i.test(authz) ? authz.replace(/^Bearer\s+/i, "") : undefined;
    const key = typeof xKey === "string" && xKey ? xKey : bearer;
    const entry: FakeRequest = {
      index: requests.length,
      method: req.method ?? "POST",
      url: req.url ?? "",
      headers,
      auth: typeof xKey === "string" && xKey ? "x-api-key" : bearer ? "bearer" : "none",
      body,
      stream: body.stream === true,
      time: Date.now(),
      aborted: false,
    };
    requests.push(entry);
    inFlight++;
    const requestId = `req_fake_${runId}_${entry.index}`;
    const ac = new AbortController();
    active.add(ac);
    let weClosed = false;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      entry.endTime = Date.now();
      inFlight--;
      active.delete(ac);
      notify();
    };
    res.on("close", () => {
      if (!res.writableFinished && !weClosed) {
        entry.aborted = true;
        ac.abort();
      }
      finish();
    });
    notify();

    const reject = (status: number, type: string, message: string) => {
      entry.outcome = "rejected";
      entry.status = status;
      sendJson(res, status, errorBody(status, type, message, requestId), { "request-id": requestId });
    };
    if (!key) return reject(401, "authentication_error", "x-api-key header is required");
    if (opts.apiKey !== undefined && key !== opts.apiKey)
      return reject(401, "authentication_error", "invalid x-api-key");
    if (!parsed) return reject(400, "invalid_request_error", "request body is not a JSON object");

    const reply = await pickReply(entry);
    if (ac.signal.aborted) return;

    if ("hang" in reply && reply.hang) {
      entry.outcome = "hang";
      await new Promise<void>((resolve) =>
        ac.signal.addEventListener("abort", () => resolve(), { once: true }),
      );
      return;
    }
    const delayMs = "delayMs" in reply ? (reply.delayMs ?? 0) : 0;
    if (!(await sleep(delayMs, ac.signal))) return;

    if ("drop" in reply && reply.drop) {
      entry.outcome = "drop";
      weClosed = true;
      req.socket.destroy();
      return;
    }

    if (isErrorReply(reply)) {
      entry.outcome = "error";
      const eBody = errorBody(reply.status, reply.error?.type, reply.error?.message, requestId);
      const hdrs = { "request-id": requestId, ...errorHeaders, ...reply.headers };
      if (reply.inStream && entry.stream) {
        entry.status = 200;
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...hdrs });
        const msg = buildMessage({ text: "" }, entry);
        res.write(sse("message_start", sseEvents(msg)[0]![1]));
        res.end(sse("error", eBody));
        return;
      }
      entry.status = reply.status;
      sendJson(res, reply.status, eBody, hdrs);
      return;
    }

    const mReply = reply as FakeMessageReply;
    const msg = buildMessage(mReply, entry);
    entry.outcome = "message";
    entry.status = 200;
    const hdrs = { "request-id": requestId, ...mReply.headers };
    if (!entry.stream) {
      if (mReply.dropAfterEvents !== undefined) {
        entry.outcome = "drop";
        weClosed = true;
        req.socket.destroy();
        return;
      }
      sendJson(res, 200, msg, hdrs);
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...hdrs });
    const events = sseEvents(msg);
    for (let i = 0; i < events.length; i++) {
      if (mReply.dropAfterEvents !== undefined && i >= mReply.dropAfterEvents) {
        entry.outcome = "drop";
        weClosed = true;
        req.socket.destroy();
        return;
      }
      if (i > 0 && mReply.chunkDelayMs && !(await sleep(mReply.chunkDelayMs, ac.signal))) return;
      if (ac.signal.aborted) return;
      const [name, data] = events[i]!;
      res.write(sse(name, data));
    }
    res.end();
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const rawBody = await readBody(req);
      const path = (req.url ?? "/").split("?")[0];
      if (req.method === "POST" && path === "/v1/messages") return handleMessages(req, res, rawBody);
      if (req.method === "POST" && path === "/v1/messages/count_tokens") {
        let tokens = 1;
        try {
          tokens = Math.max(1, Math.ceil(allText(JSON.parse(rawBody)).length / 4));
        } catch {}
        return sendJson(res, 200, { input_tokens: tokens });
      }
      sendJson(
        res,
        404,
        errorBody(404, "not_found_error", `fake-anthropic: no route for ${req.method} ${path}`),
      );
    })().catch((err: unknown) => {
      if (!res.headersSent) {
        sendJson(res, 500, errorBody(500, "api_error", `fake-anthropic internal error: ${String(err)}`));
      } else {
        res.destroy();
      }
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  Object.assign(fake, { url: `http://127.0.0.1:${port}`, port });
  return fake;
}
