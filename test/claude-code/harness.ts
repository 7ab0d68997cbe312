// Test harness for the claude_code backend: a temp dir with a scripted fake `claude`, a Config
// from loadConfig pointing at it, and RunRequest builders that collect events and progress.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AgentTool, RunEvent, RunRequest, ToolOutcome } from "../../src/backends/backend.js";
import { type ClaudeCodeBackend, createClaudeCodeBackend } from "../../src/backends/claude-code/index.js";
import { type Config, loadConfig } from "../../src/config.js";
import { silentLogger } from "../../src/log.js";

export const FAKE_CLAUDE = fileURLToPath(new URL("../helpers/fake-claude.mjs", import.meta.url));

export interface FakeRecord {
  invocation: number;
  argv: string[];
  cwd: string;
  stdin: string;
  stdin_kind: string;
  pid: number;
  grandchild_pid: number | null;
  env: Record<string, string | null>;
}

export interface Harness {
  dir: string;
  work: string;
  extra: string;
  config: Config;
  backend: ClaudeCodeBackend;
  events: RunEvent[];
  progress: string[];
  records(): FakeRecord[];
  request(overrides?: Partial<RunRequest>): RunRequest;
  cleanup(): void;
}

export interface SetupOptions {
  /** Fake CLI script: { steps: [...] } etc. */
  script?: Record<string, unknown>;
  /** Extra server env vars for loadConfig. */
  env?: Record<string, string>;
  /** Extra child env vars (the server process environment the child inherits). */
  childEnv?: Record<string, string>;
  killGraceMs?: number;
  cliPath?: string;
}

export function setup(opts: SetupOptions = {}): Harness {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "cc-test-")));
  const work = join(dir, "work");
  const extra = join(dir, "extra");
  mkdirSync(work);
  mkdirSync(extra);
  const scriptPath = join(dir, "script.json");
  const recordPath = join(dir, "record.jsonl");
  writeFileSync(scriptPath, JSON.stringify(opts.script ?? { steps: [{ echo: true }] }));
  const loaded = loadConfig({
    cwd: dir,
    env: {
      CLAUDE_AGENT_MCP_EXECUTION_BACKEND: "claude_code",
      CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH: opts.cliPath ?? FAKE_CLAUDE,
      CLAUDE_AGENT_MCP_STATE_DIR: join(dir, "state"),
      CLAUDE_AGENT_MCP_ALLOWED_DIRS: `${work},${extra}`,
      CLAUDE_AGENT_MCP_MODEL: "claude-test-model",
      ...opts.env,
    },
  });
  if (!loaded.ok) throw new Error(`config: ${loaded.problems.join("; ")}`);
  const config = loaded.config;
  const backend = createClaudeCodeBackend(config, silentLogger(), {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      FAKE_CLAUDE_SCRIPT: scriptPath,
      FAKE_CLAUDE_RECORD: recordPath,
      CLAUDECODE: "1",
      ANTHROPIC_API_KEY: "sk-test-parent-key",
      FAKE_MARKER: "marker",
      ...opts.childEnv,
    },
    killGraceMs: opts.killGraceMs ?? 500,
  });
  const events: RunEvent[] = [];
  const progress: string[] = [];
  return {
    dir,
    work,
    extra,
    config,
    backend,
    events,
    progress,
    records() {
      if (!existsSync(recordPath)) return [];
      return readFileSync(recordPath, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as FakeRecord);
    },
    request(overrides = {}) {
      return {
        sessionId: "sess_test_1",
        workflow: "run_task",
        profileName: "general",
        readOnly: false,
        systemPrompt: "You are a careful agent.",
        prompt: "Do the thing.",
        history: [],
        sessionSummary: null,
        providerSessionId: null,
        isContinuation: false,
        workingDirectory: work,
        allowedDirs: [work, extra],
        maxTurns: 10,
        turnOffset: 0,
        tools: [],
        sessionEvents: [],
        signal: new AbortController().signal,
        onProgress: (m) => progress.push(m),
        onEvent: (e) => events.push(e),
        ...overrides,
      };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Value after a flag in argv. */
export function flagValue(argv: string[], name: string): string | null {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : null;
}

export interface FakeTool extends AgentTool {
  calls: unknown[];
}

/** A federation tool whose call() is scripted. */
export function fedTool(
  name: string,
  impl: (input: unknown) => ToolOutcome | Promise<ToolOutcome> = () => ({
    content: `result of ${name}`,
    isError: false,
  }),
): FakeTool {
  const calls: unknown[] = [];
  return {
    name,
    description: `Tool ${name} for tests`,
    inputSchema: {
      type: "object",
      properties: { q: { type: "string", description: "query" } },
      required: ["q"],
    },
    readOnly: true,
    source: "federation",
    calls,
    async call(input) {
      calls.push(input);
      return impl(input);
    },
  };
}

export function actionBlock(fields: Record<string, unknown>): string {
  const body = {
    mediation_version: "v0.8.0",
    request_id: "req_1",
    action_type: "read",
    target_tool: "srv__lookup",
    arguments: { q: "x" },
    justification: "need it",
    ...fields,
  };
  return `<mediated_action_request>\n${JSON.stringify(body)}\n</mediated_action_request>`;
}

export function workflowBlock(fields: Record<string, unknown>): string {
  const body = {
    mediation_version: "v0.9.0",
    workflow_id: "wf_1",
    justification: "several steps",
    steps: [
      {
        step_index: 0,
        action_type: "read",
        target_tool: "srv__lookup",
        arguments: { q: "a" },
        justification: "s0",
      },
    ],
    ...fields,
  };
  return `<mediated_workflow_request>\n${JSON.stringify(body)}\n</mediated_workflow_request>`;
}

/** True while the process exists and is not a zombie (a reaped-later zombie is dead for us). */
export function pidAlive(pid: number): boolean {
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

/** Waits until the pid is gone (or the time is up); returns whether it is still alive. */
export async function stillAliveAfter(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!pidAlive(pid)) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pidAlive(pid);
}
