// MCP session lifetime in the HTTP transport, in-process (src, not dist) so the idle timeout can be
// made short: idle sessions expire, sessions with a call in flight do not, shutdown ends them all.
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createRuntime, type Runtime } from "../../src/main.js";
import {
  allowedHostSet,
  type HttpHandle,
  normalizeHostPort,
  startHttp,
} from "../../src/server/transports/http.js";
import { type FakeAnthropic, startFakeAnthropic } from "../helpers/fake-anthropic.js";
import { type TempDir, tempStateDir } from "../helpers/mcp-harness.js";

let fake: FakeAnthropic;
let dir: TempDir | undefined;
let rt: Runtime | undefined;
let http: HttpHandle | undefined;
const clients: Client[] = [];

beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  await http?.close();
  await rt?.shutdown("test end");
  http = undefined;
  rt = undefined;
  fake.reset();
  await dir?.cleanup();
});

async function start(opts: { idleTimeoutMs: number; sweepIntervalMs: number }): Promise<HttpHandle> {
  dir = await tempStateDir("cam-http-sess-");
  const r = loadConfig({
    cwd: dir.dir,
    flags: { transport: "streamable-http", host: "127.0.0.1", port: "1" },
    env: {
      ANTHROPIC_API_KEY: "test",
      ANTHROPIC_BASE_URL: fake.url,
      CLAUDE_AGENT_MCP_MODEL: "claude-fake-model",
      CLAUDE_AGENT_MCP_STATE_DIR: join(dir.dir, "state"),
      CLAUDE_AGENT_MCP_ALLOWED_DIRS: dir.dir,
      CLAUDE_AGENT_MCP_API_MAX_RETRIES: "0",
      CLAUDE_AGENT_MCP_LOG_LEVEL: "ERROR",
    },
  });
  if (!r.ok) throw new Error(r.problems.join("\n"));
  // Port 0: let the OS pick (config requires 1..65535, so override after validation).
  const config = { ...r.config, port: 0 };
  rt = await createRuntime(config);
  http = await startHttp({ config, service: rt.service, status: rt.status, logger: rt.logger }, opts);
  return http;
}

async function connect(url: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name: "sess-test", version: "1.0.0" });
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("MCP session lifetime", () => {
  it("expires an idle session; its id then gets 404 and a new session works", async () => {
    const h = await start({ idleTimeoutMs: 1000, sweepIntervalMs: 100 });
    const { client } = await connect(h.url);
    await client.listTools();
    expect(h.sessionCount()).toBe(1);
    await sleep(2500);
    expect(h.sessionCount()).toBe(0);
    await expect(client.listTools()).rejects.toThrow(/404|Session not found/);
    const again = await connect(h.url);
    expect((await again.client.listTools()).tools.length).toBeGreaterThan(0);
  });

  it("does not expire a session while one of its calls is running", async () => {
    const h = await start({ idleTimeoutMs: 800, sweepIntervalMs: 50 });
    const { client } = await connect(h.url);
    fake.enqueue({ text: "slow but fine", delayMs: 2500 });
    const r = await client.callTool({
      name: "agent_run_task",
      arguments: { task: "slow", working_directory: dir!.dir },
    });
    expect(r.structuredContent).toMatchObject({ ok: true, status: "completed" });
    expect(h.sessionCount()).toBe(1);
  });

  it("counts sessions and ends them all on close", async () => {
    const h = await start({ idleTimeoutMs: 60_000, sweepIntervalMs: 1000 });
    await connect(h.url);
    await connect(h.url);
    const { transport } = await connect(h.url);
    expect(h.sessionCount()).toBe(3);
    await transport.terminateSession();
    expect(h.sessionCount()).toBe(2);
    await h.close();
    expect(h.sessionCount()).toBe(0);
    expect(h.server.listening).toBe(false);
  });
});

describe("Host allowlist normalisation", () => {
  it("adds the port to names without one and brackets IPv6", () => {
    expect(normalizeHostPort("localhost", 8000)).toBe("localhost:8000");
    expect(normalizeHostPort("LocalHost:9000", 8000)).toBe("localhost:9000");
    expect(normalizeHostPort("::1", 8000)).toBe("[::1]:8000");
    expect(normalizeHostPort("[::1]:8123", 8000)).toBe("[::1]:8123");
    expect(normalizeHostPort("a.example/path", 8000)).toBeNull();
    expect(normalizeHostPort("user@a.example", 8000)).toBeNull();
    expect(normalizeHostPort("", 8000)).toBeNull();
    const set = allowedHostSet(
      { httpAllowedHosts: ["localhost", "127.0.0.1", "[::1]", "::1"], host: "0.0.0.0" },
      8000,
    );
    expect([...set].sort()).toEqual(["127.0.0.1:8000", "[::1]:8000", "localhost:8000"]);
    expect(allowedHostSet({ httpAllowedHosts: [], host: "10.1.2.3" }, 80).has("10.1.2.3:80")).toBe(true);
  });
});
