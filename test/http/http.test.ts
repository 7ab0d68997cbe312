// The streamable-http transport, end to end: the built dist/cli.js listening on 127.0.0.1, the real
// MCP SDK client (StreamableHTTPClientTransport), raw HTTP via node:http (so Host can be forged),
// the fake Anthropic API. Every server spawned here is killed by pid.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeAnthropic, type FakeRequest, startFakeAnthropic } from "../helpers/fake-anthropic.js";
import { CLI_PATH, cleanEnv, REPO_ROOT, runCli, type TempDir, tempStateDir } from "../helpers/mcp-harness.js";

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
const TOKEN = "http-test-token-7f3a9c1e";
const INIT = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};
const MCP_HEADERS = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };

// ---------------------------------------------------------------------------------------------
// Spawning servers (by pid, always killed)

const livePids = new Set<number>();
process.once("exit", () => {
  for (const pid of livePids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface HttpServer {
  pid: number;
  port: number;
  base: string;
  url: string;
  child: ChildProcess;
  stderr(): string;
  stdout(): string;
  /** Exit code/signal once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after 6 s; resolves with the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let fake: FakeAnthropic;
let dir: TempDir;
const servers: HttpServer[] = [];
const clients: Client[] = [];

function baseEnv(): Record<string, string> {
  return {
    ANTHROPIC_API_KEY: "test",
    ANTHROPIC_BASE_URL: fake.url,
    CLAUDE_AGENT_MCP_MODEL: "claude-fake-model",
    CLAUDE_AGENT_MCP_STATE_DIR: join(dir.dir, "state"),
    CLAUDE_AGENT_MCP_ALLOWED_DIRS: dir.dir,
    CLAUDE_AGENT_MCP_API_MAX_RETRIES: "0",
  };
}

async function startHttpServer(
  opts: { env?: Record<string, string>; args?: string[] } = {},
): Promise<HttpServer> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [CLI_PATH, "--transport", "streamable-http", "--port", String(port), ...(opts.args ?? [])],
    { cwd: dir.dir, env: cleanEnv({ ...baseEnv(), ...opts.env }), stdio: ["ignore", "pipe", "pipe"] },
  );
  const pid = child.pid!;
  livePids.add(pid);
  let err = "";
  let out = "";
  child.stderr!.on("data", (c: Buffer) => {
    err += c.toString("utf8");
  });
  child.stdout!.on("data", (c: Buffer) => {
    out += c.toString("utf8");
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      livePids.delete(pid);
      resolve({ code, signal });
    });
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (gone) throw new Error(`server exited before listening:\n${err}`);
    try {
      const r = await raw("GET", `${base}/healthz`);
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      process.kill(pid, "SIGKILL");
      throw new Error(`server did not listen within 15 s:\n${err}`);
    }
    await sleep(50);
  }
  const server: HttpServer = {
    pid,
    port,
    base,
    url: `${base}/mcp`,
    child,
    stderr: () => err,
    stdout: () => out,
    exited,
    stop: async () => {
      if (!gone) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          // gone
        }
        const t = setTimeout(() => {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // gone
          }
        }, 6000);
        const r = await exited;
        clearTimeout(t);
        return r;
      }
      return exited;
    },
  };
  servers.push(server);
  return server;
}

async function connect(url: string, token?: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : undefined,
  });
  const client = new Client({ name: "http-test", version: "1.0.0" });
  await client.connect(transport);
  clients.push(client);
  return client;
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP exchange with full control over headers (Host included). */
function raw(
  method: string,
  url: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

/**
 * POSTs `size` bytes in 64 KiB chunks (with a Content-Length, or chunked) and stops writing as
 * soon as the server answers. A keep-alive connection: with `Connection: close` the server would
 * close it right after its early answer and the client could see EPIPE before reading the 413.
 */
function oversizedPost(url: string, size: number, declared: boolean): Promise<RawResponse> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return new Promise<RawResponse>((resolve, reject) => {
    let answered = false;
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: { ...MCP_HEADERS, ...(declared ? { "Content-Length": String(size) } : {}) },
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          });
          req.destroy();
        });
      },
    );
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (!answered && sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once("drain", pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  }).finally(() => agent.destroy());
}

function initRaw(base: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return raw("POST", `${base}/mcp`, { headers: { ...MCP_HEADERS, ...headers }, body: JSON.stringify(INIT) });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary fields of tool results
type Json = any;

async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<Json> {
  const r = await client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 });
  return r.structuredContent as Json;
}

/** Largest number of fake-API requests that were open at the same moment. */
function maxOverlap(reqs: FakeRequest[]): number {
  const events: Array<[number, number]> = [];
  for (const r of reqs) {
    events.push([r.time, 1]);
    events.push([r.endTime ?? Number.POSITIVE_INFINITY, -1]);
  }
  // Ends before starts at the same millisecond: touching intervals do not count as overlapping.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let max = 0;
  for (const [, d] of events) {
    cur += d;
    max = Math.max(max, cur);
  }
  return max;
}

beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  fake.reset();
  await dir?.cleanup();
});

async function freshDir(): Promise<void> {
  dir = await tempStateDir("cam-http-");
}

// ---------------------------------------------------------------------------------------------

describe("MCP over streamable-http (SDK client)", () => {
  it("does the full tool round trip and reports our version", async () => {
    await freshDir();
    const s = await startHttpServer();
    const client = await connect(s.url);
    expect(client.getServerVersion()).toMatchObject({ name: "claude-agent-mcp", version: pkg.version });

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(["agent_run_task", "agent_get_session", "agent_list_sessions"]),
    );

    fake.enqueue("Hello over HTTP");
    const run = await callTool(client, "agent_run_task", { task: "say hello over http" });
    expect(run.ok).toBe(true);
    expect(run.status).toBe("completed");
    expect(run.result.output_text).toContain("Hello over HTTP");
    const id = run.session_id as string;

    const got = await callTool(client, "agent_get_session", { session_id: id });
    expect(got.session_id).toBe(id);
    expect(got.status).toBe("completed");

    const listed = await callTool(client, "agent_list_sessions", {});
    expect(listed.sessions.map((x: Json) => x.session_id)).toContain(id);

    const status = await callTool(client, "agent_get_runtime_status", {});
    expect(status.version).toBe(pkg.version);

    // The bound address goes to the log (stderr), never stdout.
    expect(s.stderr()).toContain(`listening on http://127.0.0.1:${s.port}/mcp`);
    expect(s.stdout()).toBe("");
  });

  it("ends a session on DELETE; its id is then unknown (404)", async () => {
    await freshDir();
    const s = await startHttpServer();
    const transport = new StreamableHTTPClientTransport(new URL(s.url));
    const client = new Client({ name: "http-test", version: "1.0.0" });
    await client.connect(transport);
    clients.push(client);
    const sid = transport.sessionId!;
    expect(sid).toMatch(/^[0-9a-f-]{36}$/);
    await transport.terminateSession();
    const r = await raw("POST", s.url, {
      headers: { ...MCP_HEADERS, "Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-06-18" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
    });
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body).error.message).toMatch(/Session not found/);
  });

  it("keeps clients apart: a slow run does not hold up another client's calls", async () => {
    await freshDir();
    const s = await startHttpServer();
    const slow = await connect(s.url);
    const quick = await connect(s.url);
    fake.enqueue({ text: "slow answer", delayMs: 3000 });
    const slowCall = callTool(slow, "agent_run_task", { task: "take your time" });
    await fake.waitForRequests(1);
    const t0 = Date.now();
    const st = await callTool(quick, "agent_get_runtime_status", {});
    const listed = await callTool(quick, "agent_list_sessions", {});
    const elapsed = Date.now() - t0;
    expect(st.ok).toBe(true);
    expect(listed.sessions.some((x: Json) => x.status === "running")).toBe(true);
    expect(elapsed).toBeLessThan(1500);
    expect((await slowCall).ok).toBe(true);
  });
});

describe("HTTP surface (raw requests)", () => {
  it("serves /mcp and /mcp/ directly, /healthz, 404 elsewhere, and checks methods and bodies", async () => {
    await freshDir();
    const s = await startHttpServer();

    for (const path of ["/mcp", "/mcp/"]) {
      const r = await raw("POST", `${s.base}${path}`, { headers: MCP_HEADERS, body: JSON.stringify(INIT) });
      expect(r.status).toBe(200);
      expect(r.headers.location).toBeUndefined();
      expect(r.headers["mcp-session-id"]).toBeTruthy();
      expect(r.body).toContain(`"version":"${pkg.version}"`);
    }
    // No redirect even for a bare GET without a session.
    const get = await raw("GET", s.url, { headers: { Accept: "text/event-stream" } });
    expect(get.status).toBe(400);
    expect(get.headers.location).toBeUndefined();

    const health = await raw("GET", `${s.base}/healthz`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ ok: true, version: pkg.version });

    for (const path of ["/", "/mcpx", "/mcp/extra", "/sse", "/healthz/x"]) {
      const r = await raw("GET", `${s.base}${path}`);
      expect(r.status, path).toBe(404);
      expect(JSON.parse(r.body).error.code).toBe("not_found");
    }

    const put = await raw("PUT", s.url, { headers: MCP_HEADERS, body: "{}" });
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe("GET, POST, DELETE");

    const noSession = await raw("POST", s.url, {
      headers: MCP_HEADERS,
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(noSession.status).toBe(400);

    const unknown = await raw("POST", s.url, {
      headers: { ...MCP_HEADERS, "Mcp-Session-Id": "00000000-0000-0000-0000-000000000000" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(unknown.status).toBe(404);

    const badJson = await raw("POST", s.url, { headers: MCP_HEADERS, body: "{not json" });
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.body).error.code).toBe(-32700);

    // Bodies over the cap (4 MiB): refused by declared length, and while streaming without one.
    for (const declared of [true, false]) {
      const huge = await oversizedPost(s.url, 5 * 1024 * 1024, declared);
      expect(huge.status, `declared=${declared}`).toBe(413);
      expect(JSON.parse(huge.body).error.code).toBe("payload_too_large");
    }

    // The server is still fine afterwards.
    expect((await initRaw(s.base)).status).toBe(200);
  });

  it("refuses a foreign Host or Origin with 403 (DNS-rebinding protection)", async () => {
    await freshDir();
    const s = await startHttpServer();
    const p = s.port;
    const ok = async (headers: Record<string, string>) => (await initRaw(s.base, headers)).status;

    expect(await ok({ Host: `127.0.0.1:${p}` })).toBe(200);
    expect(await ok({ Host: `localhost:${p}` })).toBe(200);
    expect(await ok({ Host: `LOCALHOST:${p}`, Origin: `http://localhost:${p}` })).toBe(200);
    expect(await ok({ Host: `[::1]:${p}` })).toBe(200);

    for (const host of [
      `evil.example:${p}`,
      "evil.example",
      `127.0.0.1:${p + 1}`,
      `localhost`,
      `attacker.localhost:${p}`,
    ]) {
      const r = await initRaw(s.base, { Host: host });
      expect(r.status, host).toBe(403);
      expect(r.headers["content-type"]).toContain("application/json");
      expect(JSON.parse(r.body).error.code).toBe("forbidden_host");
    }
    for (const origin of [
      "http://evil.example",
      `http://evil.example:${p}`,
      `http://localhost:${p + 1}`,
      "null",
    ]) {
      const r = await initRaw(s.base, { Origin: origin });
      expect(r.status, origin).toBe(403);
      expect(JSON.parse(r.body).error.code).toBe("forbidden_origin");
    }
    // Checked before anything else: a foreign Host does not even learn which paths exist.
    expect((await raw("GET", `${s.base}/nothing`, { headers: { Host: "evil.example" } })).status).toBe(403);
  });

  it("accepts hosts named in CLAUDE_AGENT_MCP_HTTP_ALLOWED_HOSTS", async () => {
    await freshDir();
    const s = await startHttpServer({
      env: { CLAUDE_AGENT_MCP_HTTP_ALLOWED_HOSTS: "mcp.internal.test, ui.internal.test:6274" },
    });
    const p = s.port;
    expect((await initRaw(s.base, { Host: `mcp.internal.test:${p}` })).status).toBe(200);
    expect((await initRaw(s.base, { Origin: "http://ui.internal.test:6274" })).status).toBe(200);
    // The bind address itself stays reachable; other names do not.
    expect((await initRaw(s.base, { Host: `127.0.0.1:${p}` })).status).toBe(200);
    expect((await initRaw(s.base, { Host: `localhost:${p}` })).status).toBe(403);
  });
});

describe("bearer token", () => {
  it("answers 401 without or with a wrong token, 200 with the right one; /healthz needs none", async () => {
    await freshDir();
    const s = await startHttpServer({ env: { CLAUDE_AGENT_MCP_HTTP_AUTH_TOKEN: TOKEN } });

    const none = await initRaw(s.base);
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toMatch(/^Bearer /);
    expect(JSON.parse(none.body).error.code).toBe("unauthorized");

    for (const auth of [
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      "Bearer ",
      `Basic ${TOKEN}`,
      TOKEN,
    ]) {
      const r = await initRaw(s.base, { Authorization: auth });
      expect(r.status, auth).toBe(401);
      expect(r.headers["www-authenticate"]).toMatch(/^Bearer /);
    }

    const good = await initRaw(s.base, { Authorization: `Bearer ${TOKEN}` });
    expect(good.status).toBe(200);
    expect(good.headers["mcp-session-id"]).toBeTruthy();
    // A session id is no substitute for the token.
    const hijack = await raw("POST", s.url, {
      headers: {
        ...MCP_HEADERS,
        "Mcp-Session-Id": String(good.headers["mcp-session-id"]),
        "Mcp-Protocol-Version": "2025-06-18",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
    });
    expect(hijack.status).toBe(401);

    const health = await raw("GET", `${s.base}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body).not.toContain(TOKEN);

    // The SDK client with the token does real work.
    const client = await connect(s.url, TOKEN);
    fake.enqueue("authorised answer");
    const run = await callTool(client, "agent_run_task", { task: "with a token" });
    expect(run.ok).toBe(true);
    const status = await callTool(client, "agent_get_runtime_status", {});
    expect(JSON.stringify(status)).not.toContain(TOKEN);

    // ... and without it the SDK client cannot connect.
    await expect(connect(s.url)).rejects.toThrow(/401|nauthorized/);

    await s.stop();
    expect(s.stderr()).not.toContain(TOKEN);
  });
});

describe("startup and shutdown", () => {
  it("refuses a non-loopback bind without a token: exit 1, one readable line", async () => {
    await freshDir();
    const port = await freePort();
    const r = await runCli(["--transport", "streamable-http", "--host", "0.0.0.0", "--port", String(port)], {
      cwd: dir.dir,
      env: baseEnv(),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /CLAUDE_AGENT_MCP_HOST: refusing to bind non-loopback host "0\.0\.0\.0" without CLAUDE_AGENT_MCP_HTTP_AUTH_TOKEN/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("binds a non-loopback host when a token is set", async () => {
    await freshDir();
    const s = await startHttpServer({
      env: { CLAUDE_AGENT_MCP_HTTP_AUTH_TOKEN: TOKEN },
      args: ["--host", "0.0.0.0"],
    });
    expect((await initRaw(s.base, { Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await initRaw(s.base)).status).toBe(401);
    expect(s.stderr()).toContain(`listening on http://0.0.0.0:${s.port}/mcp`);
  });

  it("reports a port already in use in one clean line and exits 1", async () => {
    await freshDir();
    const blocker = createNetServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, "127.0.0.1", () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      const r = await runCli(["--transport", "streamable-http", "--port", String(port)], {
        cwd: dir.dir,
        env: baseEnv(),
      });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(
        `claude-agent-mcp: cannot listen on 127.0.0.1:${port}: address already in use`,
      );
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it("shuts down on SIGTERM within 5 s with a run in flight; the run is interrupted", async () => {
    await freshDir();
    const s = await startHttpServer();
    const client = await connect(s.url);
    fake.enqueue({ hang: true });
    const call = client
      .callTool({ name: "agent_run_task", arguments: { task: "never finishes" } })
      .then((r) => ({ result: r as Json, error: null }))
      .catch((error: Error) => ({ result: null, error }));
    await fake.waitForRequests(1);
    const t0 = Date.now();
    process.kill(s.pid, "SIGTERM");
    const exit = await s.exited;
    const took = Date.now() - t0;
    expect(exit.code).toBe(0);
    expect(took).toBeLessThan(5000);
    // The caller still gets its answer: the run was interrupted by the shutdown.
    const out = await Promise.race([
      call,
      sleep(3000).then(() => ({ result: null, error: new Error("no answer") })),
    ]);
    expect(out.error).toBeNull();
    expect(out.result.structuredContent).toMatchObject({ ok: false, status: "interrupted" });
    const db = new Database(join(dir.dir, "state", "claude-agent-mcp.db"), { readonly: true });
    try {
      const rows = db.prepare("SELECT status FROM sessions").all() as Array<{ status: string }>;
      expect(rows.map((r) => r.status)).toEqual(["interrupted"]);
    } finally {
      db.close();
    }
    // Nothing listens any more.
    await expect(raw("GET", `${s.base}/healthz`)).rejects.toThrow();
  });
});

describe("many clients at once", () => {
  it("runs 50 clients' tasks concurrently against a fake API that takes 500 ms per call", async () => {
    await freshDir();
    const s = await startHttpServer();
    const N = 50;
    const all = await Promise.all(Array.from({ length: N }, () => connect(s.url)));
    fake.handler = () => ({ text: "done after a pause", delayMs: 500 });

    const t0 = Date.now();
    const results = await Promise.all(
      all.map((c, i) => callTool(c, "agent_run_task", { task: `concurrent task ${i}` })),
    );
    const wall = Date.now() - t0;

    expect(results.every((r) => r.ok === true && r.status === "completed")).toBe(true);
    expect(new Set(results.map((r) => r.session_id)).size).toBe(N);
    const reqs = fake.requests.filter((r) => r.outcome === "message");
    expect(reqs.length).toBe(N);
    const overlap = maxOverlap(reqs);
    const firstStart = Math.min(...reqs.map((r) => r.time));
    const lastStart = Math.max(...reqs.map((r) => r.time));
    // Serialised calls would never have more than one open at a time.
    expect(overlap).toBeGreaterThanOrEqual(25);
    console.info(
      `[http concurrency] ${N} clients: max in-flight at the fake API ${overlap}, ` +
        `request starts spread over ${lastStart - firstStart} ms, wall ${wall} ms (serial would be >= ${N * 500} ms)`,
    );
  }, 60_000);
});
