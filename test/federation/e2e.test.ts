// Federation end to end: the built server (dist/cli.js) over stdio, the api backend against the fake
// Anthropic API, and the scripted downstream MCP server. What the model was offered and what came back
// is asserted on the fake's request log; audit events through agent_get_session.
import { spawnSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DOWNSTREAM_SERVER, writeConfigFile } from "../helpers/downstream-server.js";
import {
  type FakeAnthropic,
  type FakeMessageReply,
  type FakeRequest,
  startFakeAnthropic,
} from "../helpers/fake-anthropic.js";
import {
  CLI_PATH,
  cleanEnv,
  type Harness,
  startServer,
  type TempDir,
  tempStateDir,
} from "../helpers/mcp-harness.js";

let fake: FakeAnthropic;
let tmp: TempDir;
const open: Harness[] = [];

beforeAll(async () => {
  fake = await startFakeAnthropic();
  tmp = await tempStateDir("cam-fed-e2e-");
});
afterAll(async () => {
  await fake.close();
  await tmp.cleanup();
});
afterEach(async () => {
  while (open.length) await open.pop()!.close();
  fake.reset();
});

const downstream = (name: string, extra: Record<string, unknown>) => ({
  name,
  command: process.execPath,
  args: [DOWNSTREAM_SERVER, "--name", name],
  call_timeout_seconds: 2,
  ...extra,
});

async function server(config: unknown, extra: Record<string, string> = {}): Promise<Harness> {
  const dir = realpathSync(tmp.dir);
  const h = await startServer({
    cwd: dir,
    env: {
      ANTHROPIC_API_KEY: "test",
      ANTHROPIC_BASE_URL: fake.url,
      CLAUDE_AGENT_MCP_MODEL: "claude-fake-model",
      CLAUDE_AGENT_MCP_STATE_DIR: join(dir, "state"),
      CLAUDE_AGENT_MCP_ALLOWED_DIRS: dir,
      CLAUDE_AGENT_MCP_API_MAX_RETRIES: "0",
      CLAUDE_AGENT_MCP_WORKSPACE_TOOLS: "false",
      CLAUDE_AGENT_MCP_FEDERATION_ENABLED: "true",
      CLAUDE_AGENT_MCP_FEDERATION_CONFIG: writeConfigFile(config),
      ...extra,
    },
  });
  open.push(h);
  return h;
}

function toolNames(req: FakeRequest): string[] {
  return (req.body.tools ?? []).map((t: { name: string }) => t.name).sort();
}

function resultFor(req: FakeRequest, id: string): { text: string; isError: boolean } {
  const last = req.body.messages?.at(-1);
  const blocks = Array.isArray(last?.content) ? last.content : [];
  const block = blocks.find((b: { type?: string; tool_use_id?: string }) => b.tool_use_id === id);
  if (!block) throw new Error(`no tool_result for ${id}`);
  const text =
    typeof block.content === "string"
      ? block.content
      : (block.content as { text?: string }[]).map((c) => c.text ?? "").join("\n");
  return { text, isError: block.is_error === true };
}

function toolUses(...uses: [id: string, name: string, input: unknown][]): FakeMessageReply {
  return { toolUse: uses.map(([id, name, input]) => ({ id, name, input })) };
}

describe("federation through the api backend", () => {
  it("offers allowlisted tools, calls them, returns errors with is_error, and audits keys only", async () => {
    const h = await server({
      downstream_servers: [
        downstream("dt", { allowed_tools: ["echo", "fail", "add", "slow"], profiles_allowed: ["general"] }),
        downstream("hidden", { allowed_tools: ["echo"], profiles_allowed: ["verification"] }),
      ],
    });
    fake.script([
      toolUses(
        ["toolu_echo", "dt__echo", { text: "TOP-SECRET-ARG" }],
        ["toolu_fail", "dt__fail", { reason: "nope" }],
      ),
      toolUses(["toolu_add", "dt__add", { a: 1 }], ["toolu_slow", "dt__slow", {}]),
      "all done",
    ]);
    const r = await h.call("agent_run_task", { task: "use the downstream tools" });
    expect(r.isError, r.text).toBe(false);
    expect(r.json).toMatchObject({ ok: true, status: "completed" });
    expect(r.json.result.output_text).toBe("all done");

    expect(toolNames(fake.requests[0]!)).toEqual(["dt__add", "dt__echo", "dt__fail", "dt__slow"]);
    const echoDef = fake.requests[0]!.body.tools!.find((t: { name: string }) => t.name === "dt__echo");
    expect(echoDef).toMatchObject({
      description: "Echo the text back",
      input_schema: { type: "object", required: ["text"] },
    });

    expect(resultFor(fake.requests[1]!, "toolu_echo")).toEqual({ text: "TOP-SECRET-ARG", isError: false });
    expect(resultFor(fake.requests[1]!, "toolu_fail")).toEqual({ text: "it failed: nope", isError: true });
    const add = resultFor(fake.requests[2]!, "toolu_add");
    expect(add.isError).toBe(true);
    expect(add.text).toMatch(/missing required field b/);
    const slow = resultFor(fake.requests[2]!, "toolu_slow");
    expect(slow.isError).toBe(true);
    expect(slow.text).toMatch(/timed out after 2s/);

    const s = await h.call("agent_get_session", { session_id: r.json.session_id, include_events: true });
    const events = (s.json.events ?? s.json.session?.events ?? []) as {
      event_type: string;
      payload: Record<string, unknown>;
    }[];
    const inv = events.filter((e) => e.event_type === "downstream_tool_invocation");
    const res = events.filter((e) => e.event_type === "downstream_tool_result");
    expect(inv.map((e) => e.payload.normalized_name)).toEqual(["dt__echo", "dt__fail", "dt__slow"]);
    expect(inv[0]!.payload).toMatchObject({ server: "dt", downstream_name: "echo", input_keys: ["text"] });
    expect(res.map((e) => [e.payload.normalized_name, e.payload.success])).toEqual([
      ["dt__echo", true],
      ["dt__fail", false],
      ["dt__add", false],
      ["dt__slow", false],
    ]);
    expect(JSON.stringify([...inv, ...res])).not.toContain("TOP-SECRET-ARG");
  });

  it("the verification profile sees only read-only tools allowlisted for it", async () => {
    const h = await server({
      downstream_servers: [
        downstream("gen", { allowed_tools: ["echo"], profiles_allowed: ["general"] }),
        downstream("ver", { allowed_tools: ["read_only", "echo"], profiles_allowed: ["verification"] }),
        downstream("ro", { allowed_tools: ["add"], profiles_allowed: ["verification"], read_only: true }),
      ],
    });
    fake.script(["general answer", "verification answer"]);
    await h.call("agent_run_task", { task: "general run" });
    await h.call("agent_run_task", { task: "verification run", system_profile: "verification" });
    expect(toolNames(fake.requests[0]!)).toEqual(["gen__echo"]);
    // Read-only profiles get tools flagged read-only: the MCP readOnlyHint annotation (ver__read_only)
    // or the operator's `read_only: true` for the whole server (ro__add); ver__echo is neither.
    expect(toolNames(fake.requests[1]!)).toEqual(["ro__add", "ver__read_only"]);
  });

  it("agent_get_runtime_status reports servers, connection and tools per profile", async () => {
    const h = await server({
      downstream_servers: [
        downstream("ok", { allowed_tools: ["echo", "add", "nonexistent"], profiles_allowed: ["general"] }),
        downstream("broken", { args: [DOWNSTREAM_SERVER, "--crash-on-start"], allowed_tools: ["echo"] }),
        downstream("off", { enabled: false, allowed_tools: ["echo"] }),
      ],
    });
    // Discovery runs in the background; a run waits for it, status does not.
    fake.script(["ready"]);
    await h.call("agent_run_task", { task: "wait for discovery" });
    const st = await h.call("agent_get_runtime_status", {});
    expect(st.json.federation_enabled).toBe(true);
    expect(st.json.federation_active).toBe(true);
    const fed = st.json.federation;
    expect(fed).toMatchObject({
      enabled: true,
      active: true,
      tools_per_profile: { general: 2, verification: 0 },
    });
    const by = (n: string) => fed.servers.find((s: { name: string }) => s.name === n);
    expect(by("ok")).toMatchObject({
      connected: true,
      allowed_tool_count: 2,
      missing_allowed_tools: ["nonexistent"],
    });
    expect(by("broken")).toMatchObject({ connected: false, state: "failed" });
    expect(by("off")).toMatchObject({ enabled: false, state: "disabled" });
  });
});

describe("federation at startup", () => {
  it("an enabled but invalid config is a clean startup error", () => {
    const path = writeConfigFile({
      downstream_servers: [
        downstream("dup", { allowed_tools: ["echo"], enabled: "yes" }),
        downstream("dup", { allowed_tools: ["bad.name"] }),
      ],
    });
    const r = spawnSync(process.execPath, [CLI_PATH], {
      env: cleanEnv({
        ANTHROPIC_API_KEY: "test",
        CLAUDE_AGENT_MCP_STATE_DIR: join(realpathSync(tmp.dir), "state-bad"),
        CLAUDE_AGENT_MCP_FEDERATION_ENABLED: "true",
        CLAUDE_AGENT_MCP_FEDERATION_CONFIG: path,
      }),
      input: "",
      encoding: "utf8",
      timeout: 15_000,
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /CLAUDE_AGENT_MCP_FEDERATION_CONFIG: .*\("dup"\)\.enabled must be true or false/,
    );
    expect(r.stderr).toMatch(/\("dup"\)\.name duplicates the name of downstream_servers\[0\]/);
    expect(r.stderr).toMatch(/"bad\.name" gives the tool name "dup__bad\.name"/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("answers tools/list at once while a downstream is still starting", async () => {
    const h = await server({
      downstream_servers: [
        downstream("sleepy", {
          args: [DOWNSTREAM_SERVER, "--start-delay", "4000"],
          allowed_tools: ["echo"],
          profiles_allowed: ["general"],
          discovery_timeout_seconds: 20,
        }),
      ],
    });
    const tools = await h.client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain("agent_run_task");
    // The downstream needs 4 s to start and 4 s more to list its tools: still pending means the
    // handshake and tools/list were answered without waiting for it.
    const st = await h.call("agent_get_runtime_status", {});
    expect(st.json.federation.discovery).toBe("pending");
  });
});
