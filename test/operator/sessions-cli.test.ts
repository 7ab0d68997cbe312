// `claude-agent-mcp sessions list|show`: sessions made by the real server (against the fake API),
// then read by the CLI straight from the DB.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorReply, type FakeAnthropic, startFakeAnthropic, textReply } from "../helpers/fake-anthropic.js";
import { runCli, type TempDir, tempStateDir } from "../helpers/mcp-harness.js";
import { dbPath, startOpServer } from "./kit.js";

let fake: FakeAnthropic;
let dir: TempDir;
const ids: { first: string; second: string; failed: string } = { first: "", second: "", failed: "" };
const LONG = `Refactored the parser ${"and tidied a great many things ".repeat(12)}end`;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  dir = await tempStateDir("cam-sessions-");
  const h = await startOpServer(dir.dir, fake);
  try {
    fake.enqueue(textReply("First answer: the fox jumped over the lazy dog, as requested."));
    ids.first = (await h.call("agent_run_task", { task: "first task" })).json.session_id;
    fake.enqueue(textReply(LONG));
    ids.second = (
      await h.call("agent_run_task", { task: "second task", system_profile: "verification" })
    ).json.session_id;
    fake.enqueue(errorReply(401));
    const failed = await h.call("agent_run_task", { task: "third task" });
    expect(failed.json.ok).toBe(false);
    ids.failed = failed.json.session_id;
  } finally {
    await h.close();
  }
  expect(ids.first && ids.second && ids.failed).toBeTruthy();
}, 60_000);

afterAll(async () => {
  await fake.close();
  await dir.cleanup();
});

/** The CLI with only the state dir configured (no API key: reading needs none). */
function cli(args: string[], extra: Record<string, string> = {}) {
  return runCli(["sessions", ...args], {
    cwd: dir.dir,
    env: { CLAUDE_AGENT_MCP_STATE_DIR: join(dir.dir, "state"), COLUMNS: "120", ...extra },
  });
}

describe("sessions list", () => {
  it("prints a table, newest first, cut to the terminal width", async () => {
    const r = await cli(["list"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^SESSION\s+STATUS\s+WORKFLOW\s+PROFILE\s+UPDATED\s+SUMMARY$/);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain(ids.failed);
    expect(lines[1]).toMatch(/\bfailed\b/);
    expect(lines[2]).toContain(ids.second);
    expect(lines[2]).toMatch(
      /\bcompleted\s+run_task\s+verification\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z\s+Refactored/,
    );
    expect(lines[3]).toContain(ids.first);
    expect(lines[3]).toContain("First answer: the fox");
    for (const l of lines) expect(Array.from(l).length).toBeLessThanOrEqual(120);
    expect(lines[2].endsWith("…")).toBe(true);

    const narrow = await cli(["list"], { COLUMNS: "95" });
    for (const l of narrow.stdout.trimEnd().split("\n")) expect(Array.from(l).length).toBeLessThanOrEqual(95);
    expect(narrow.stdout).toContain("First answ…");
    // Too narrow for any summary: the ids stay whole, the summary goes.
    const tiny = await cli(["list"], { COLUMNS: "40" });
    expect(tiny.stdout).toContain(ids.first);
    expect(tiny.stdout).not.toContain("First");
  });

  it("filters by --status and bounds by --limit", async () => {
    const failed = await cli(["list", "--status", "failed"]);
    expect(failed.code).toBe(0);
    const rows = failed.stdout.trimEnd().split("\n").slice(1);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain(ids.failed);

    const one = await cli(["list", "--limit", "1"]);
    expect(one.stdout.trimEnd().split("\n")).toHaveLength(2);

    const none = await cli(["list", "--status", "cancelled"]);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/No sessions with status cancelled/);
  });

  it("prints JSON with --json", async () => {
    const r = await cli(["list", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([
      ids.failed,
      ids.second,
      ids.first,
    ]);
    expect(j.sessions[0]).toMatchObject({ status: "failed", workflow: "run_task", profile: "general" });
    expect(j.sessions[2].summary_latest).toContain("First answer");
  });

  it("rejects a bad --status or --limit with a message and exit 1", async () => {
    const s = await cli(["list", "--status", "sleeping"]);
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/--status: "sleeping" is not one of created, running/);
    expect(s.stdout).toBe("");
    const l = await cli(["list", "--limit", "0"]);
    expect(l.code).toBe(1);
    expect(l.stderr).toMatch(/--limit/);
  });

  it("says so when there is no database, and does not create one", async () => {
    const empty = await tempStateDir("cam-sessions-empty-");
    try {
      const r = await runCli(["sessions", "list"], {
        cwd: empty.dir,
        env: { CLAUDE_AGENT_MCP_STATE_DIR: join(empty.dir, "state") },
      });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/No sessions \(no database at .* yet\)/);
      expect(existsSync(dbPath(empty.dir))).toBe(false);
      const show = await runCli(["sessions", "show", "sess_nope"], {
        cwd: empty.dir,
        env: { CLAUDE_AGENT_MCP_STATE_DIR: join(empty.dir, "state") },
      });
      expect(show.code).toBe(1);
      expect(show.stderr).toMatch(/session not found: sess_nope/);
    } finally {
      await empty.cleanup();
    }
  });
});

describe("sessions show", () => {
  it("prints the detail and the artifacts", async () => {
    const r = await cli(["show", ids.first]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`session:\\s+${ids.first}`));
    expect(r.stdout).toMatch(/status:\s+completed/);
    expect(r.stdout).toMatch(/backend:\s+api/);
    expect(r.stdout).toMatch(/task:\s+first task/);
    expect(r.stdout).toMatch(/usage:\s+\d+ input \/ \d+ output tokens/);
    expect(r.stdout).toMatch(/artifacts \(1\):/);
    expect(r.stdout).toMatch(/art_\w+\s+output\s+output\.txt\s+\d+ bytes\s+text\/plain/);
    expect(r.stdout).toMatch(/claude-agent-mcp:\/\/artifacts\/art_\w+/);
    expect(r.stdout).not.toMatch(/events \(/);
  });

  it("shows the failure of a failed session and its events with --events", async () => {
    const r = await cli(["show", ids.failed, "--events"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/status:\s+failed/);
    expect(r.stdout).toMatch(/error:\s+provider_runtime_error/);
    expect(r.stdout).toMatch(/events \(\d+\):/);
    expect(r.stdout).toMatch(/#\d+\s+\d{4}-\d{2}-\d{2} \S+\s+turn \d+\s+\w+/);
  });

  it("prints JSON with --json (and events with --events)", async () => {
    const r = await cli(["show", ids.first, "--json", "--events"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      session_id: ids.first,
      status: "completed",
      workflow: "run_task",
      task_text: "first task",
    });
    expect(j.latest_result).toMatchObject({ ok: true, session_id: ids.first });
    expect(j.artifacts).toHaveLength(1);
    expect(j.artifacts[0].uri).toBe(`claude-agent-mcp://artifacts/${j.artifacts[0].artifact_id}`);
    expect(j.artifacts[0]).not.toHaveProperty("path");
    expect(Array.isArray(j.events)).toBe(true);
    expect(j.events.length).toBeGreaterThan(0);
    const plain = JSON.parse((await cli(["show", ids.first, "--json"])).stdout);
    expect(plain).not.toHaveProperty("events");
  });

  it("unknown id: message on stderr, exit 1, nothing on stdout", async () => {
    const r = await cli(["show", "sess_does_not_exist"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/session not found: sess_does_not_exist/);
  });
});
