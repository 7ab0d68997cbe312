// End to end with an independent client: the MCP Inspector CLI (@modelcontextprotocol/inspector,
// `mcp-inspector --cli`) drives the built server over stdio. Works offline: the inspector only
// spawns `node dist/cli.js` and talks to it; no model call is made.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeAnthropic, startFakeAnthropic, textReply } from "../helpers/fake-anthropic.js";
import { CLI_PATH, REPO_ROOT, runCli, type TempDir, tempStateDir } from "../helpers/mcp-harness.js";
import { startOpServer } from "./kit.js";

// The `mcp-inspector` bin (node_modules/.bin/mcp-inspector) is this script.
const INSPECTOR = join(
  REPO_ROOT,
  "node_modules",
  "@modelcontextprotocol",
  "inspector",
  "cli",
  "build",
  "cli.js",
);

let dir: TempDir;
let fake: FakeAnthropic;

beforeAll(async () => {
  dir = await tempStateDir("cam-inspector-");
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake?.close();
  await dir?.cleanup();
});

/** `mcp-inspector --cli node dist/cli.js <args>`, run in the temp dir with a clean environment. */
async function inspector(args: string[]) {
  const r = await runCli(["--cli", process.execPath, CLI_PATH, ...args], {
    entry: INSPECTOR,
    cwd: dir.dir,
    env: {
      ANTHROPIC_API_KEY: "sk-inspector-test-key",
      ANTHROPIC_BASE_URL: fake.url,
      CLAUDE_AGENT_MCP_STATE_DIR: join(dir.dir, "state"),
      CLAUDE_AGENT_MCP_ALLOWED_DIRS: dir.dir,
    },
    timeoutMs: 60_000,
  });
  expect(r.timedOut).toBe(false);
  if (r.code !== 0) throw new Error(`inspector exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe("MCP Inspector CLI against the built server", () => {
  it("the inspector is installed", () => {
    expect(existsSync(INSPECTOR)).toBe(true);
    expect(existsSync(join(REPO_ROOT, "node_modules", ".bin", "mcp-inspector"))).toBe(true);
  });

  it("tools/list shows every tool with schemas and annotations", async () => {
    const j = await inspector(["--method", "tools/list"]);
    const names = j.tools.map((t: { name: string }) => t.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "agent_run_task",
        "agent_continue_session",
        "agent_verify_task",
        "agent_get_session",
        "agent_list_sessions",
        "agent_get_runtime_status",
        "agent_cancel_session",
        "agent_list_artifacts",
        "agent_read_artifact",
      ]),
    );
    for (const t of j.tools) {
      expect(t.inputSchema.type).toBe("object");
      expect(t.outputSchema?.type).toBe("object");
      expect(t.annotations).toBeDefined();
    }
  }, 60_000);

  it("tools/call agent_get_runtime_status returns the status snapshot", async () => {
    const j = await inspector(["--method", "tools/call", "--tool-name", "agent_get_runtime_status"]);
    expect(j.isError ?? false).toBe(false);
    const status = JSON.parse(j.content[0].text);
    expect(j.structuredContent).toEqual(status);
    expect(status).toMatchObject({ ok: true, backend: "api", transport: "stdio", mode: "standard" });
    expect(status.db).toMatchObject({
      schema_version: expect.any(Number),
      session_count: expect.any(Number),
    });
    expect(j.content[0].text).not.toContain("sk-inspector-test-key");
  }, 60_000);

  it("tools/call with arguments, and resources/list + resources/read of an artifact", async () => {
    // Make one artifact with the SDK harness, then look at it through the inspector.
    const h = await startOpServer(dir.dir, fake);
    let uri: string;
    try {
      fake.enqueue(textReply("An answer long enough to be worth keeping as an artifact, surely."));
      const run = await h.call("agent_run_task", { task: "say something" });
      uri = run.json.artifacts[0].uri;
    } finally {
      await h.close();
    }
    const listed = await inspector([
      "--method",
      "tools/call",
      "--tool-name",
      "agent_list_artifacts",
      "--tool-arg",
      "limit=5",
    ]);
    expect(JSON.parse(listed.content[0].text).artifacts[0].uri).toBe(uri);
    const resources = await inspector(["--method", "resources/list"]);
    expect(resources.resources.map((r: { uri: string }) => r.uri)).toContain(uri);
    const read = await inspector(["--method", "resources/read", "--uri", uri]);
    expect(read.contents[0].text).toBe("An answer long enough to be worth keeping as an artifact, surely.");
  }, 90_000);
});
