// The api backend's workspace tools and attachments over stdio: the built dist/cli.js, the real MCP
// SDK client and the fake Anthropic API scripting tool calls. Every assertion about what the model
// saw is made on the fake's request log (the tool_result blocks the server sent back, their is_error
// flags, and the `tools` offered), and every assertion about the filesystem on the real disk.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  allText,
  type FakeAnthropic,
  type FakeMessageReply,
  type FakeRequest,
  startFakeAnthropic,
  toolUseReply,
} from "../helpers/fake-anthropic.js";
import { type Harness, startServer, type TempDir, tempStateDir } from "../helpers/mcp-harness.js";

const READ_TOOLS = ["list_directory", "read_file", "search_files"];
const ALL_TOOLS = ["edit_file", "list_directory", "read_file", "search_files", "write_file"];

let fake: FakeAnthropic;
let tmp: TempDir;
/** Real paths: the working directory (the only allowed dir), an outside dir, the state dir. */
let ws: string;
let outside: string;
let state: string;
const open: Harness[] = [];

beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  while (open.length) await open.pop()!.close();
  fake.reset();
  await tmp?.cleanup();
});

/** A fresh sandbox: `ws` with a few real files, `outside` with a sentinel that must never change. */
async function sandbox(): Promise<void> {
  tmp = await tempStateDir("cam-e2e-ws-");
  const base = realpathSync(tmp.dir);
  ws = join(base, "ws");
  outside = join(base, "outside");
  state = join(base, "state");
  mkdirSync(join(ws, "src"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(ws, "README.md"), "# Zebra project\n\nThe zebra project counts stripes.\n");
  writeFileSync(join(ws, "notes.txt"), "TODO: count the stripes twice\n");
  writeFileSync(join(ws, "src", "index.ts"), "export const stripes = 42;\n");
  writeFileSync(join(outside, "secret.txt"), "OUTSIDE-SECRET-DO-NOT-READ\n");
}

async function server(extra: Record<string, string> = {}): Promise<Harness> {
  const h = await startServer({
    cwd: ws,
    env: {
      ANTHROPIC_API_KEY: "test",
      ANTHROPIC_BASE_URL: fake.url,
      CLAUDE_AGENT_MCP_MODEL: "claude-fake-model",
      CLAUDE_AGENT_MCP_STATE_DIR: state,
      CLAUDE_AGENT_MCP_ALLOWED_DIRS: ws,
      CLAUDE_AGENT_MCP_API_MAX_RETRIES: "0",
      ...extra,
    },
  });
  open.push(h);
  return h;
}

interface ToolResultBlock {
  type: "tool_result";
  tool_use_id: string;
  content: unknown;
  is_error?: boolean;
}

/** The tool_result blocks of the last user message of a request. */
function toolResults(req: FakeRequest): ToolResultBlock[] {
  const msgs = req.body.messages ?? [];
  const last = msgs.at(-1);
  if (last?.role !== "user" || !Array.isArray(last.content)) return [];
  return last.content.filter((b: { type?: string }) => b?.type === "tool_result");
}

/** The tool_result answering one tool_use id, looked up in the request that followed it. */
function resultFor(req: FakeRequest, id: string): { text: string; isError: boolean } {
  const block = toolResults(req).find((b) => b.tool_use_id === id);
  if (!block)
    throw new Error(
      `no tool_result for ${id} in request ${req.index}: ${JSON.stringify(req.body.messages?.at(-1))}`,
    );
  const text =
    typeof block.content === "string"
      ? block.content
      : (block.content as { type: string; text?: string }[]).map((c) => c.text ?? "").join("\n");
  return { text, isError: block.is_error === true };
}

function toolNames(req: FakeRequest): string[] | undefined {
  return req.body.tools?.map((t: { name: string }) => t.name).sort();
}

/** Several tool calls in one assistant message. */
function toolUses(...uses: [id: string, name: string, input: unknown][]): FakeMessageReply {
  return { toolUse: uses.map(([id, name, input]) => ({ id, name, input })) };
}

function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

describe("reading the workspace", () => {
  it("summarise the files in this directory: list_directory then read_file on real files", async () => {
    await sandbox();
    const h = await server();
    fake.script([
      toolUseReply("list_directory", { path: "." }, { toolUseId: "toolu_list" }),
      toolUses(
        ["toolu_readme", "read_file", { path: "README.md" }],
        ["toolu_notes", "read_file", { path: join(ws, "notes.txt") }],
      ),
      toolUseReply("read_file", { path: "src/index.ts" }, { toolUseId: "toolu_index" }),
      "Summary: a zebra project that counts 42 stripes.",
    ]);
    const r = await h.call("agent_run_task", {
      task: "summarise the files in this directory",
      working_directory: ws,
    });
    expect(r.isError, r.text).toBe(false);
    expect(r.json).toMatchObject({ ok: true, status: "completed", profile: "general" });
    expect(r.json.result.output_text).toBe("Summary: a zebra project that counts 42 stripes.");
    expect(r.json.result.metrics.turns).toBe(4);
    expect(fake.requests).toHaveLength(4);

    // The general profile offers all five tools, with input schemas, in every request.
    for (const req of fake.requests) expect(toolNames(req)).toEqual(ALL_TOOLS);
    const readTool = fake.requests[0]!.body.tools!.find((t: { name: string }) => t.name === "read_file");
    expect(readTool.input_schema).toMatchObject({ type: "object", required: ["path"] });
    expect(allText(fake.requests[0]!)).toContain("summarise the files in this directory");

    const list = resultFor(fake.requests[1]!, "toolu_list");
    expect(list.isError).toBe(false);
    expect(list.text).toContain("README.md  (51 bytes)");
    expect(list.text).toContain("notes.txt  (30 bytes)");
    expect(list.text).toMatch(/^src\/$/m);

    const readme = resultFor(fake.requests[2]!, "toolu_readme");
    expect(readme).toEqual({
      text: "# Zebra project\n\nThe zebra project counts stripes.\n",
      isError: false,
    });
    const notes = resultFor(fake.requests[2]!, "toolu_notes");
    expect(notes).toEqual({ text: "TODO: count the stripes twice\n", isError: false });
    expect(toolResults(fake.requests[2]!)).toHaveLength(2);

    const index = resultFor(fake.requests[3]!, "toolu_index");
    expect(index).toEqual({ text: "export const stripes = 42;\n", isError: false });
    // The whole conversation is replayed to the model each turn.
    expect(allText(fake.requests[3]!)).toContain("The zebra project counts stripes.");
  });

  it("search_files finds real content and names", async () => {
    await sandbox();
    const h = await server();
    fake.script([
      toolUses(
        ["toolu_content", "search_files", { content: "stripes" }],
        ["toolu_name", "search_files", { name: "*.ts" }],
      ),
      "found them",
    ]);
    const r = await h.call("agent_run_task", { task: "where are the stripes?" });
    expect(r.json).toMatchObject({ ok: true, status: "completed" });
    const content = resultFor(fake.requests[1]!, "toolu_content");
    expect(content.isError).toBe(false);
    expect(content.text).toContain("README.md:3: The zebra project counts stripes.");
    expect(content.text).toContain("notes.txt:1: TODO: count the stripes twice");
    expect(content.text).toContain("src/index.ts:1: export const stripes = 42;");
    const name = resultFor(fake.requests[1]!, "toolu_name");
    expect(name.isError).toBe(false);
    expect(name.text).toContain("src/index.ts");
    expect(name.text).not.toContain("README.md");
  });
});

describe("writing the workspace", () => {
  it("general profile: write_file creates a file and edit_file changes it, on disk", async () => {
    await sandbox();
    const h = await server();
    const file = join(ws, "out", "report.md");
    fake.script([
      toolUseReply(
        "write_file",
        { path: "out/report.md", content: "# Report\nstatus: draft\nowner: zebra\nowner: zebra\n" },
        { toolUseId: "toolu_write" },
      ),
      (req) => {
        // Between the calls: the file is really there, parent directory created.
        expect(readFileSync(file, "utf8")).toBe("# Report\nstatus: draft\nowner: zebra\nowner: zebra\n");
        expect(resultFor(req, "toolu_write").isError).toBe(false);
        return toolUseReply(
          "edit_file",
          { path: "out/report.md", old_string: "status: draft", new_string: "status: final" },
          { toolUseId: "toolu_edit" },
        );
      },
      // Not unique: refused, file unchanged.
      toolUseReply(
        "edit_file",
        { path: "out/report.md", old_string: "owner: zebra", new_string: "owner: lion" },
        { toolUseId: "toolu_ambiguous" },
      ),
      toolUseReply(
        "edit_file",
        {
          path: join(ws, "out", "report.md"),
          old_string: "owner: zebra",
          new_string: "owner: lion",
          replace_all: true,
        },
        { toolUseId: "toolu_all" },
      ),
      "Wrote and edited out/report.md.",
    ]);
    const r = await h.call("agent_run_task", {
      task: "write a report, then finalise it",
      working_directory: ws,
    });
    expect(r.isError, r.text).toBe(false);
    expect(r.json).toMatchObject({ ok: true, status: "completed" });
    expect(fake.requests).toHaveLength(5);

    const write = resultFor(fake.requests[1]!, "toolu_write");
    expect(write.isError).toBe(false);
    expect(write.text).toContain("out/report.md");
    const edit = resultFor(fake.requests[2]!, "toolu_edit");
    expect(edit.isError).toBe(false);
    const ambiguous = resultFor(fake.requests[3]!, "toolu_ambiguous");
    expect(ambiguous.isError).toBe(true);
    expect(ambiguous.text).toMatch(/^Error: /);
    expect(ambiguous.text).toMatch(/2/);
    const all = resultFor(fake.requests[4]!, "toolu_all");
    expect(all.isError).toBe(false);

    expect(readFileSync(file, "utf8")).toBe("# Report\nstatus: final\nowner: lion\nowner: lion\n");
    expect(tree(outside)).toEqual(["secret.txt"]);
  });

  it("verification profile: write tools are not offered and a forged call writes nothing", async () => {
    await sandbox();
    const h = await server();
    const readmeBefore = readFileSync(join(ws, "README.md"), "utf8");
    const wsBefore = tree(ws);
    fake.script([
      toolUses(
        ["toolu_forged_write", "write_file", { path: "forged.txt", content: "should not exist" }],
        [
          "toolu_forged_edit",
          "edit_file",
          { path: "README.md", old_string: "zebra", new_string: "HACKED", replace_all: true },
        ],
        ["toolu_read", "read_file", { path: "README.md" }],
      ),
      "Verification: I could read but not write.",
    ]);
    const r = await h.call("agent_run_task", {
      task: "check the README, and try to fix it",
      system_profile: "verification",
      working_directory: ws,
    });
    expect(r.isError, r.text).toBe(false);
    expect(r.json).toMatchObject({ ok: true, profile: "verification" });
    expect(fake.requests).toHaveLength(2);
    for (const req of fake.requests) expect(toolNames(req)).toEqual(READ_TOOLS);

    for (const [id, name] of [
      ["toolu_forged_write", "write_file"],
      ["toolu_forged_edit", "edit_file"],
    ]) {
      const res = resultFor(fake.requests[1]!, id!);
      expect(res.isError, id).toBe(true);
      expect(res.text).toMatch(/^Error: /);
      expect(res.text).toContain(name);
      expect(res.text).toMatch(/not available/);
    }
    // The legitimate read in the same turn still works.
    expect(resultFor(fake.requests[1]!, "toolu_read")).toEqual({ text: readmeBefore, isError: false });

    expect(existsSync(join(ws, "forged.txt"))).toBe(false);
    expect(readFileSync(join(ws, "README.md"), "utf8")).toBe(readmeBefore);
    expect(tree(ws)).toEqual(wsBefore);

    // The refused calls are still recorded, as failed.
    const get = await h.call("agent_get_session", { session_id: r.json.session_id, include_events: true });
    const calls = get.json.events.filter((e: { event_type: string }) => e.event_type === "tool_call");
    expect(
      calls.map((e: { payload: { tool: string; ok: boolean } }) => [e.payload.tool, e.payload.ok]),
    ).toEqual([
      ["write_file", false],
      ["edit_file", false],
      ["read_file", true],
    ]);
  });
});

describe("the sandbox", () => {
  it("refuses ../, absolute paths outside and a symlink to /etc; nothing outside is touched", async () => {
    await sandbox();
    symlinkSync("/etc", join(ws, "etc-link"));
    symlinkSync("/etc/hostname", join(ws, "hostname-link"));
    symlinkSync(outside, join(ws, "out-link"));
    const secret = join(outside, "secret.txt");
    const before = statSync(secret);
    const etcBefore = readdirSync("/etc").sort();
    const h = await server();
    const probe = `cam-e2e-probe-${process.pid}`;
    const attempts: [string, string, Record<string, unknown>][] = [
      ["toolu_r_dotdot", "read_file", { path: "../outside/secret.txt" }],
      ["toolu_r_abs", "read_file", { path: secret }],
      ["toolu_r_etc", "read_file", { path: "etc-link/passwd" }],
      ["toolu_r_etc_abs", "read_file", { path: "/etc/passwd" }],
      ["toolu_r_filelink", "read_file", { path: "hostname-link" }],
      ["toolu_r_outlink", "read_file", { path: "out-link/secret.txt" }],
      ["toolu_l_dotdot", "list_directory", { path: ".." }],
      ["toolu_l_etc", "list_directory", { path: "etc-link" }],
      ["toolu_l_abs", "list_directory", { path: outside }],
      ["toolu_s_etc", "search_files", { path: "etc-link", content: "root" }],
      ["toolu_s_dotdot", "search_files", { path: "..", name: "secret.txt" }],
      ["toolu_w_dotdot", "write_file", { path: "../outside/secret.txt", content: "overwritten" }],
      ["toolu_w_abs", "write_file", { path: join(outside, "new.txt"), content: "created" }],
      ["toolu_w_outlink", "write_file", { path: "out-link/secret.txt", content: "overwritten" }],
      ["toolu_w_etc", "write_file", { path: `etc-link/${probe}`, content: "created" }],
      ["toolu_w_tmp", "write_file", { path: `/tmp/${probe}`, content: "created" }],
      [
        "toolu_e_dotdot",
        "edit_file",
        { path: "../outside/secret.txt", old_string: "OUTSIDE", new_string: "EDITED" },
      ],
      [
        "toolu_e_outlink",
        "edit_file",
        { path: "out-link/secret.txt", old_string: "OUTSIDE", new_string: "EDITED" },
      ],
    ];
    fake.script([
      toolUses(...attempts),
      toolUseReply("list_directory", {}, { toolUseId: "toolu_l_root" }),
      "done",
    ]);
    const r = await h.call("agent_run_task", { task: "try to escape", working_directory: ws });
    expect(r.isError, r.text).toBe(false);
    expect(r.json).toMatchObject({ ok: true, status: "completed" });
    expect(fake.requests).toHaveLength(3);
    expect(toolResults(fake.requests[1]!)).toHaveLength(attempts.length);

    for (const [id, , input] of attempts) {
      const res = resultFor(fake.requests[1]!, id);
      expect(res.isError, `${id} ${JSON.stringify(input)}: ${res.text}`).toBe(true);
      expect(res.text, id).toMatch(/^Error: /);
      expect(res.text, id).toMatch(/outside the allowed directories/);
    }
    const everything = allText(fake.requests[1]!);
    expect(everything).not.toContain("OUTSIDE-SECRET-DO-NOT-READ");
    expect(everything).not.toMatch(/root:x?:0:0/);

    // Links are shown, never followed, and marked when they leave.
    const listing = resultFor(fake.requests[2]!, "toolu_l_root");
    expect(listing.isError).toBe(false);
    expect(listing.text).toMatch(/etc-link -> \/etc {2}\(symlink, outside the allowed directories\)/);
    expect(listing.text).toMatch(/out-link -> .*outside {2}\(symlink, outside the allowed directories\)/);

    // Nothing outside the sandbox changed.
    const after = statSync(secret);
    expect(readFileSync(secret, "utf8")).toBe("OUTSIDE-SECRET-DO-NOT-READ\n");
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.size).toBe(before.size);
    expect(tree(outside)).toEqual(["secret.txt"]);
    expect(existsSync(`/etc/${probe}`)).toBe(false);
    expect(existsSync(`/tmp/${probe}`)).toBe(false);
    expect(readdirSync("/etc").sort()).toEqual(etcBefore);
  });
});

describe("attachments", () => {
  it("are read and given to the model; outside or missing ones are refused before a session exists", async () => {
    await sandbox();
    writeFileSync(join(ws, "spec.md"), "ATTACHED-SPEC: stripes must be counted twice\n");
    symlinkSync(join(outside, "secret.txt"), join(ws, "sneaky.txt"));
    const h = await server();

    fake.script(["read it"]);
    const r = await h.call("agent_run_task", {
      task: "apply the attached spec",
      attachments: ["spec.md", join(ws, "notes.txt")],
      working_directory: ws,
    });
    expect(r.isError, r.text).toBe(false);
    expect(r.json).toMatchObject({ ok: true, status: "completed" });
    expect(fake.requests).toHaveLength(1);
    const text = allText(fake.requests[0]!);
    expect(text).toContain("ATTACHED-SPEC: stripes must be counted twice");
    expect(text).toContain("TODO: count the stripes twice");
    expect(text).toContain('<attachment path="spec.md" bytes="45"');
    expect(text).toContain("apply the attached spec");
    // The attachments come before the task.
    expect(text.indexOf("ATTACHED-SPEC")).toBeLessThan(text.indexOf("apply the attached spec"));

    const refused: [unknown[], string, RegExp][] = [
      [[join(outside, "secret.txt")], "policy_denied", /outside allowed directories/],
      [["../outside/secret.txt"], "policy_denied", /outside allowed directories/],
      [["sneaky.txt"], "policy_denied", /outside allowed directories/],
      [["spec.md", "/etc/hostname"], "policy_denied", /outside allowed directories/],
      [["missing.md"], "validation_error", /does not exist: missing\.md/],
      [["spec.md", join(ws, "nope", "gone.txt")], "validation_error", /does not exist/],
    ];
    for (const [attachments, code, msg] of refused) {
      const bad = await h.call("agent_run_task", { task: "use these", attachments, working_directory: ws });
      const label = JSON.stringify(attachments);
      expect(bad.isError, label).toBe(true);
      expect(bad.json.ok, label).toBe(false);
      expect(bad.json.session_id, label).toBe("");
      expect(bad.json.errors[0].code, label).toBe(code);
      expect(bad.json.errors[0].message, label).toMatch(msg);
      expect(bad.text).not.toContain("OUTSIDE-SECRET-DO-NOT-READ");
    }
    // No model call and no session for any of the refused requests.
    expect(fake.requests).toHaveLength(1);
    const list = await h.call("agent_list_sessions", {});
    expect(list.json.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([r.json.session_id]);
  });
});

describe("turning tools off", () => {
  it("allow_tools: false sends no tools field; the default run does", async () => {
    await sandbox();
    const h = await server();
    fake.script(["with tools", "without tools"]);
    const withTools = await h.call("agent_run_task", { task: "one" });
    expect(withTools.json.ok).toBe(true);
    const without = await h.call("agent_run_task", { task: "two", allow_tools: false });
    expect(without.json).toMatchObject({ ok: true, status: "completed" });
    expect(without.json.result.output_text).toBe("without tools");
    expect(fake.requests).toHaveLength(2);
    expect(toolNames(fake.requests[0]!)).toEqual(ALL_TOOLS);
    expect(fake.requests[1]!.body).not.toHaveProperty("tools");
  });

  it("a tool call the model makes with allow_tools: false is refused", async () => {
    await sandbox();
    const h = await server();
    fake.script([
      toolUseReply("write_file", { path: "x.txt", content: "x" }, { toolUseId: "toolu_x" }),
      "ok",
    ]);
    const r = await h.call("agent_run_task", { task: "no tools please", allow_tools: false });
    expect(r.json.ok).toBe(true);
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]!.body).not.toHaveProperty("tools");
    expect(resultFor(fake.requests[1]!, "toolu_x").isError).toBe(true);
    expect(existsSync(join(ws, "x.txt"))).toBe(false);
  });

  it("CLAUDE_AGENT_MCP_WORKSPACE_TOOLS=false offers no workspace tools", async () => {
    await sandbox();
    const h = await server({ CLAUDE_AGENT_MCP_WORKSPACE_TOOLS: "false" });
    fake.script(["no tools here"]);
    const r = await h.call("agent_run_task", { task: "anything" });
    expect(r.json.ok).toBe(true);
    expect(fake.requests[0]!.body).not.toHaveProperty("tools");
  });
});

describe("events and metrics", () => {
  it("records tool_call events with names and ok flags; metrics.turns counts model calls", async () => {
    await sandbox();
    const h = await server();
    fake.script([
      toolUseReply("list_directory", { path: "src" }),
      toolUses(
        ["toolu_a", "read_file", { path: "src/index.ts" }],
        ["toolu_b", "read_file", { path: "does-not-exist.txt" }],
      ),
      toolUseReply("write_file", { path: "log.txt", content: "12345" }),
      "done",
    ]);
    const progress: string[] = [];
    const r = await h.call(
      "agent_run_task",
      { task: "look around", working_directory: ws },
      { onprogress: (p) => progress.push(p.message ?? "") },
    );
    expect(r.json).toMatchObject({ ok: true, status: "completed" });
    expect(r.json.result.metrics.turns).toBe(4);
    expect(r.json.result.metrics.turns).toBe(fake.requests.length);
    expect(resultFor(fake.requests[2]!, "toolu_b").isError).toBe(true);
    // Progress names each tool as it is called.
    for (const name of ["list_directory", "read_file", "write_file"]) {
      expect(
        progress.some((m) => m.includes(`calling ${name}`)),
        `${name} in ${JSON.stringify(progress)}`,
      ).toBe(true);
    }

    const get = await h.call("agent_get_session", { session_id: r.json.session_id, include_events: true });
    expect(get.isError).toBe(false);
    const events = get.json.events as {
      event_type: string;
      turn_index: number;
      payload: Record<string, unknown>;
    }[];
    const calls = events.filter((e) => e.event_type === "tool_call");
    expect(calls.map((e) => [e.payload.tool, e.payload.ok])).toEqual([
      ["list_directory", true],
      ["read_file", true],
      ["read_file", false],
      ["write_file", true],
    ]);
    for (const e of calls) expect(e.payload.source).toBe("workspace");
    expect(calls[1]!.payload).toMatchObject({
      path: "src/index.ts",
      bytes: "export const stripes = 42;\n".length,
    });
    expect(calls[2]!.payload.error).toMatch(/not found/);
    expect(calls[3]!.payload).toMatchObject({ path: "log.txt" });
    // Turn indexes follow the model calls.
    expect(calls.map((e) => e.turn_index)).toEqual([1, 2, 2, 3]);
    const policy = events.find((e) => e.event_type === "policy_decision")!;
    expect(policy.payload).toMatchObject({ allow_tools: true, working_directory: ws });
    expect((policy.payload.tools as string[]).sort()).toEqual(ALL_TOOLS);
  });
});

describe("max_turns", () => {
  it("a model that keeps calling tools stops at max_turns with a max_turns_reached warning", async () => {
    await sandbox();
    const h = await server();
    let n = 0;
    fake.handler = () => toolUseReply("list_directory", { path: "." }, { text: `looking (${++n})` });
    const r = await h.call("agent_run_task", { task: "never stop", max_turns: 2, working_directory: ws });
    expect(fake.requests).toHaveLength(2);
    expect(r.json.status).toBe("completed");
    expect(r.json.result.metrics).toMatchObject({ turns: 2, stop_reason: "max_turns_reached" });
    expect(
      r.json.warnings.some((w: string) => /^max_turns_reached\b/.test(w) && /list_directory/.test(w)),
    ).toBe(true);
    expect(r.json.result.output_text).toBe("looking (2)");
    // Only the first turn's call was executed; the second was not.
    const get = await h.call("agent_get_session", { session_id: r.json.session_id, include_events: true });
    const calls = get.json.events.filter((e: { event_type: string }) => e.event_type === "tool_call");
    expect(calls).toHaveLength(1);
  });
});
