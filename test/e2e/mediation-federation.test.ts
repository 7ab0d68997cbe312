// Execution mediation end to end: the BUILT server (dist/cli.js) over stdio with the claude_code
// backend, the scripted fake `claude` (test/helpers/fake-claude.mjs) emitting
// <mediated_action_request> blocks, and the scripted downstream MCP server
// (test/helpers/downstream-server.mjs) federated over stdio. What the model received in its
// follow-up `--resume` turn is read from the fake's per-invocation record; audit events come
// through agent_get_session include_events. Processes are ended by pid only.
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOWNSTREAM_SERVER } from "../helpers/downstream-server.js";
import { type Harness, startServer } from "../helpers/mcp-harness.js";

const FAKE_CLAUDE = realpathSync(new URL("../helpers/fake-claude.mjs", import.meta.url));

interface FakeRecord {
  invocation: number;
  argv: string[];
  cwd: string;
  stdin: string;
  pid: number;
}

interface SessionEvent {
  event_type: string;
  payload: Record<string, unknown>;
}

function flagValue(argv: string[], name: string): string | null {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : null;
}

function actionBlock(fields: Record<string, unknown>): string {
  const body = {
    mediation_version: "v0.8.0",
    request_id: "req_1",
    action_type: "read",
    target_tool: "dt__echo",
    arguments: { text: "x" },
    justification: "the task needs it",
    ...fields,
  };
  return `<mediated_action_request>\n${JSON.stringify(body)}\n</mediated_action_request>`;
}

/** Pids of the live direct children of `ppid` (Linux /proc; empty elsewhere). */
function childPids(ppid: number): number[] {
  if (!existsSync("/proc")) return [];
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z" && Number(fields[1]) === ppid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return true;
  }
}

async function deadWithin(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/** One server plus its own fake-claude script/record files, re-scriptable between tests. */
interface Rig {
  dir: string;
  server: Harness;
  script(steps: Record<string, unknown>[]): void;
  records(): FakeRecord[];
  events(sessionId: string): Promise<SessionEvent[]>;
  close(): Promise<void>;
}

async function startRig(opts: { federation: boolean }): Promise<Rig> {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "cam-med-fed-")));
  const scriptPath = join(dir, "script.json");
  const recordPath = join(dir, "record.jsonl");
  const configPath = join(dir, "federation.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      downstream_servers: [
        {
          name: "dt",
          transport: "stdio",
          command: process.execPath,
          args: [DOWNSTREAM_SERVER, "--name", "dt"],
          allowed_tools: ["echo", "pid"],
          profiles_allowed: ["general"],
          call_timeout_seconds: 5,
        },
      ],
    }),
  );
  const script = (steps: Record<string, unknown>[]) => {
    writeFileSync(scriptPath, JSON.stringify({ version: "3.1.4 (Claude Code)", steps }));
    rmSync(`${scriptPath}.count`, { force: true });
    rmSync(recordPath, { force: true });
  };
  script([{ text: "idle" }]);
  let server: Harness;
  try {
    server = await startServer({
      cwd: dir,
      env: {
        CLAUDE_AGENT_MCP_EXECUTION_BACKEND: "claude_code",
        CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH: FAKE_CLAUDE,
        CLAUDE_AGENT_MCP_CLAUDE_CODE_ENABLE_EXECUTION_MEDIATION: "true",
        CLAUDE_AGENT_MCP_STATE_DIR: join(dir, "state"),
        CLAUDE_AGENT_MCP_ALLOWED_DIRS: dir,
        CLAUDE_AGENT_MCP_FEDERATION_ENABLED: opts.federation ? "true" : "false",
        ...(opts.federation ? { CLAUDE_AGENT_MCP_FEDERATION_CONFIG: configPath } : {}),
        FAKE_CLAUDE_SCRIPT: scriptPath,
        FAKE_CLAUDE_RECORD: recordPath,
      },
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let closed = false;
  return {
    dir,
    server,
    script,
    records: () =>
      existsSync(recordPath)
        ? readFileSync(recordPath, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l) as FakeRecord)
        : [],
    async events(sessionId) {
      const s = await server.call("agent_get_session", {
        session_id: sessionId,
        include_events: true,
        events_limit: 1000,
      });
      return (s.json.events ?? []) as SessionEvent[];
    },
    async close() {
      if (closed) return;
      closed = true;
      // Children still alive at shutdown (the stdio downstream): the server must end them; any
      // survivor is SIGKILLed by pid so nothing leaks, and reported by the caller's assertion.
      const kids = childPids(server.pid);
      await server.close();
      for (const pid of kids) {
        if (!(await deadWithin(pid, 5_000))) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // gone
          }
        }
      }
      for (const r of existsSync(recordPath) ? readFileSync(recordPath, "utf8").split("\n") : []) {
        if (!r) continue;
        const pid = (JSON.parse(r) as FakeRecord).pid;
        if (alive(pid)) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // gone
          }
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const types = (events: SessionEvent[]) => events.map((e) => e.event_type);

describe("claude_code execution mediation → federation over stdio", () => {
  let rig: Rig;
  let sessionOk = "";

  beforeAll(async () => {
    rig = await startRig({ federation: true });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it("an allowlisted mediated read runs downstream and its result reaches the --resume turn", async () => {
    rig.script([
      {
        session_id: "cli-med-1",
        text: `I need to look that up.\n\n${actionBlock({ request_id: "req_echo", arguments: { text: "PAYLOAD-42" } })}`,
      },
      { echo: true }, // the follow-up answers with the message it was given
    ]);
    const run = await rig.server.call("agent_run_task", { task: "Echo something through the downstream." });
    expect(run.isError, run.text).toBe(false);
    expect(run.json).toMatchObject({ ok: true, status: "completed", workflow: "run_task" });

    const mediation = run.json.result.mediation;
    expect(mediation).toMatchObject({
      enabled: true,
      federation_active: true,
      totals: { requested: 1, approved: 1, rejected: 0, completed: 1, failed: 0 },
      follow_up_turns: 1,
    });
    expect(mediation.actions).toHaveLength(1);
    expect(mediation.actions[0]).toMatchObject({
      kind: "action",
      request_id: "req_echo",
      action_type: "read",
      tool: "dt__echo",
      status: "completed",
      policy_decision: "approved",
      reason: null,
      arguments_summary: 'text="PAYLOAD-42"',
      result_summary: "PAYLOAD-42",
      round: 1,
    });

    // Two CLI invocations: the first was taught the protocol and the visible tools only; the
    // second resumed the CLI session with the downstream result.
    const recs = rig.records();
    expect(recs).toHaveLength(2);
    const system = flagValue(recs[0]!.argv, "--append-system-prompt") ?? "";
    expect(system).toContain("[Mediated Tool Access]");
    expect(system).toContain("dt__echo");
    expect(system).not.toContain("dt__add");
    expect(flagValue(recs[0]!.argv, "--resume")).toBeNull();
    expect(recs[0]!.stdin).toContain("Echo something through the downstream.");
    expect(flagValue(recs[1]!.argv, "--resume")).toBe("cli-med-1");
    expect(recs[1]!.stdin).toContain("[Mediated Action Results]");
    expect(recs[1]!.stdin).toMatch(/- req_echo → dt__echo: completed\n<result>\nPAYLOAD-42\n<\/result>/);
    expect(run.json.result.output_text).toBe(`echo: ${recs[1]!.stdin}`);
    expect(run.json.result.metrics).toMatchObject({ backend: "claude_code", turns: 2 });

    sessionOk = run.json.session_id;
    const events = await rig.events(sessionOk);
    const t = types(events);
    for (const name of [
      "downstream_tool_catalog_resolved",
      "mediated_action_requested",
      "mediated_action_approved",
      "mediated_action_completed",
    ]) {
      expect(t, name).toContain(name);
    }
    expect(t.indexOf("mediated_action_requested")).toBeLessThan(t.indexOf("mediated_action_approved"));
    expect(t.indexOf("mediated_action_approved")).toBeLessThan(t.indexOf("mediated_action_completed"));
    expect(t).not.toContain("mediated_action_rejected");

    const by = (name: string) => events.find((e) => e.event_type === name)!.payload;
    expect(by("downstream_tool_catalog_resolved")).toMatchObject({
      visible_tools: ["dt__echo", "dt__pid"],
      forwarding_mode: "mediated",
    });
    expect(by("mediated_action_requested")).toMatchObject({
      request_id: "req_echo",
      action_type: "read",
      target_tool: "dt__echo",
      mediation_version: "v0.8.0",
    });
    expect(by("mediated_action_approved")).toMatchObject({
      target_tool: "dt__echo",
      policy_decision: "approved",
    });
    expect(by("mediated_action_completed")).toMatchObject({
      request_id: "req_echo",
      target_tool: "dt__echo",
      status: "completed",
      policy_decision: "approved",
    });
  });

  // docs/federation.md ("How each backend uses them"): on claude_code, approved mediated requests
  // "run through the same invoker, with the same audit events" as the api backend.
  it("the mediated downstream call is audited with downstream_tool_invocation/result (keys only)", async () => {
    expect(sessionOk, "depends on the previous test").toBeTruthy();
    const events = await rig.events(sessionOk);
    const t = types(events);
    expect(t).toContain("downstream_tool_invocation");
    expect(t).toContain("downstream_tool_result");
    // approved → downstream call → completed, in that order
    expect(t.indexOf("mediated_action_approved")).toBeLessThan(t.indexOf("downstream_tool_invocation"));
    expect(t.indexOf("downstream_tool_invocation")).toBeLessThan(t.indexOf("downstream_tool_result"));
    expect(t.indexOf("downstream_tool_result")).toBeLessThan(t.indexOf("mediated_action_completed"));
    const by = (name: string) => events.find((e) => e.event_type === name)!.payload;
    expect(by("downstream_tool_invocation")).toMatchObject({
      normalized_name: "dt__echo",
      server: "dt",
      downstream_name: "echo",
      input_keys: ["text"],
    });
    expect(by("downstream_tool_result")).toMatchObject({
      normalized_name: "dt__echo",
      success: true,
      error_message: null,
    });
    // Audit events carry argument names, never values.
    const downstreamEvents = events.filter((e) => e.event_type.startsWith("downstream_tool_"));
    expect(JSON.stringify(downstreamEvents)).not.toContain("PAYLOAD-42");
  });

  it("a tool that is not allowlisted is rejected as tool_not_visible, never called, and warned about", async () => {
    // dt__crash exists downstream but is not allowlisted. Had it been called, the downstream
    // process would have exited: its pid surviving proves no call was made (independently of the
    // audit events, which the previous test shows are missing on this path).
    const downstreamBefore = childPids(rig.server.pid);
    expect(downstreamBefore.length).toBeGreaterThanOrEqual(1);
    rig.script([
      {
        session_id: "cli-med-2",
        text: `Let me add.\n${actionBlock({ request_id: "req_add", target_tool: "dt__crash", arguments: {} })}`,
      },
      { text: "a follow-up must not happen" },
    ]);
    const run = await rig.server.call("agent_run_task", { task: "Add via the downstream." });
    expect(run.isError, run.text).toBe(false);
    expect(run.json).toMatchObject({ ok: true, status: "completed" });

    const mediation = run.json.result.mediation;
    expect(mediation.totals).toEqual({ requested: 1, approved: 0, rejected: 1, completed: 0, failed: 0 });
    expect(mediation.follow_up_turns).toBe(0);
    expect(mediation.actions[0]).toMatchObject({
      request_id: "req_add",
      tool: "dt__crash",
      status: "rejected",
      policy_decision: "rejected:tool_not_visible",
      reason: "tool is not visible to this profile",
    });
    expect(run.json.warnings).toContain(
      "Mediated action 'req_add' for tool 'dt__crash' rejected — tool is not visible to this profile (policy: rejected:tool_not_visible)",
    );
    // A reply with only rejections gets no follow-up turn.
    expect(rig.records()).toHaveLength(1);
    expect(run.json.result.output_text).toContain("Let me add.");
    await new Promise((r) => setTimeout(r, 100)); // the crash tool exits ~10 ms into a call
    for (const pid of downstreamBefore) expect(alive(pid), `downstream pid ${pid}`).toBe(true);

    const events = await rig.events(run.json.session_id);
    const t = types(events);
    expect(t).toContain("mediated_action_requested");
    expect(t).not.toContain("mediated_action_approved");
    expect(t).not.toContain("mediated_action_completed");
    expect(t).not.toContain("downstream_tool_invocation");
    expect(t).not.toContain("downstream_tool_result");
    expect(events.find((e) => e.event_type === "mediated_action_rejected")?.payload).toMatchObject({
      request_id: "req_add",
      target_tool: "dt__crash",
      policy_decision: "rejected:tool_not_visible",
      rejection_reason: "tool_not_visible",
    });
  });

  it("agent_get_runtime_status: claude_code, the CLI path, mediation on, federation active per profile", async () => {
    const st = await rig.server.call("agent_get_runtime_status", {});
    expect(st.isError, st.text).toBe(false);
    const s = st.json;
    expect(s.backend).toBe("claude_code");
    expect(s.backend_details).toMatchObject({
      backend: "claude_code",
      cli_path: FAKE_CLAUDE,
      cli_check: "ok",
      cli_version: "3.1.4 (Claude Code)",
    });
    expect(s.mediation_settings).toMatchObject({ enabled: true, max_actions_per_turn: 1 });
    expect(s.capability_flags).toMatchObject({
      execution_mediation_enabled: true,
      federation_enabled: true,
      backend_supports_execution_mediation: true,
    });
    expect(s.federation_enabled).toBe(true);
    expect(s.federation_active).toBe(true);
    // Discovery has settled: the runs above waited for it.
    expect(s.federation).toMatchObject({
      enabled: true,
      active: true,
      discovery: "complete",
      tools_per_profile: { general: 2, verification: 0 },
    });
    const dt = s.federation.servers.find((x: { name: string }) => x.name === "dt");
    expect(dt).toMatchObject({
      transport: "stdio",
      state: "connected",
      connected: true,
      allowed_tool_count: 2,
      missing_allowed_tools: [],
      restarts: 0,
    });
  });

  it("shutting the server down ends the downstream child", async () => {
    const server = rig.server;
    const kids = childPids(server.pid);
    expect(kids.length).toBeGreaterThanOrEqual(1); // the stdio downstream
    await rig.close();
    for (const pid of kids) expect(alive(pid), `pid ${pid}`).toBe(false);
  });
});

describe("claude_code execution mediation with federation disabled", () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig({ federation: false });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it("a mediation request is rejected as federation_inactive", async () => {
    rig.script([
      { session_id: "cli-med-3", text: `Trying.\n${actionBlock({ request_id: "req_off" })}` },
      { text: "a follow-up must not happen" },
    ]);
    const run = await rig.server.call("agent_run_task", { task: "Use a downstream tool." });
    expect(run.isError, run.text).toBe(false);
    expect(run.json).toMatchObject({ ok: true, status: "completed" });
    expect(run.json.result.mediation).toMatchObject({
      enabled: true,
      federation_active: false,
      totals: { requested: 1, approved: 0, rejected: 1, completed: 0, failed: 0 },
      follow_up_turns: 0,
    });
    expect(run.json.result.mediation.actions[0]).toMatchObject({
      request_id: "req_off",
      tool: "dt__echo",
      status: "rejected",
      policy_decision: "rejected:federation_inactive",
    });
    expect(run.json.warnings.join("\n")).toMatch(
      /Mediated action 'req_off' for tool 'dt__echo' rejected — .*\(policy: rejected:federation_inactive\)/,
    );
    const recs = rig.records();
    expect(recs).toHaveLength(1);
    // No tools: the protocol is not taught.
    expect(flagValue(recs[0]!.argv, "--append-system-prompt") ?? "").not.toContain("[Mediated Tool Access]");

    const events = await rig.events(run.json.session_id);
    const t = types(events);
    expect(t).not.toContain("downstream_tool_invocation");
    expect(t).not.toContain("mediated_action_approved");
    expect(events.find((e) => e.event_type === "mediated_action_rejected")?.payload).toMatchObject({
      policy_decision: "rejected:federation_inactive",
      rejection_reason: "federation_inactive",
    });

    const st = await rig.server.call("agent_get_runtime_status", {});
    expect(st.json).toMatchObject({ federation_enabled: false, federation_active: false });
    expect(st.json.mediation_settings.enabled).toBe(true);
  });
});
