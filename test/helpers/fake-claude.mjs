#!/usr/bin/env node
// A scripted stand-in for the `claude` CLI, for tests. It reads the prompt from stdin, records
// argv/env/cwd/stdin, and prints the CLI's JSON shapes (`--output-format json` or
// `stream-json --verbose`). Driven by two environment variables:
//   FAKE_CLAUDE_SCRIPT  JSON file: { version?, version_exit?, version_hang?, steps: [step, ...] }
//                       invocation n uses steps[min(n, steps.length - 1)] (counter in <script>.count)
//   FAKE_CLAUDE_RECORD  JSONL file: one line per invocation (argv, cwd, stdin, selected env, pids)
// Step fields (all optional):
//   text            the assistant's answer (default "ok"); echo: true answers "echo: <stdin>"
//   session_id      default: the --resume id, else a fresh id; model, num_turns, cost, usage, stop_reason
//   subtype, is_error, api_error_status, errors, permission_denials   copied into the result object
//   tool_uses       tool names: stream-json gets assistant tool_use + user tool_result lines
//   stdout          printed verbatim instead of JSON (garbage);  no_result: true  omits the result line
//   stderr, exit_code    printed to stderr / exit status after the output
//   resume_fail     with --resume: "No conversation found with session ID: <id>" on stderr, exit 1
//   hang            never finish; grandchild: true also starts a sleeping grandchild (same process
//                   group) whose pid is recorded; ignore_sigterm: true survives SIGTERM
//   delay_ms        wait before printing
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { appendFileSync, existsSync, fstatSync, readFileSync, writeFileSync } from "node:fs";

const argv = process.argv.slice(2);
const scriptPath = process.env.FAKE_CLAUDE_SCRIPT;
const script = scriptPath && existsSync(scriptPath) ? JSON.parse(readFileSync(scriptPath, "utf8")) : {};

function flag(name) {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : null;
}

if (argv.includes("--version")) {
  if (script.version_hang) setInterval(() => {}, 1000);
  else {
    if (script.version_exit) {
      process.stderr.write("fake claude: version check failed\n");
      process.exit(script.version_exit);
    }
    process.stdout.write(`${script.version ?? "9.9.9 (Claude Code)"}\n`);
    process.exit(0);
  }
} else {
  main();
}

function nextStep() {
  const steps = Array.isArray(script.steps) && script.steps.length ? script.steps : [{ echo: true }];
  let n = 0;
  if (scriptPath) {
    const countFile = `${scriptPath}.count`;
    n = existsSync(countFile) ? Number(readFileSync(countFile, "utf8")) || 0 : 0;
    writeFileSync(countFile, String(n + 1));
  }
  return { step: steps[Math.min(n, steps.length - 1)], index: n };
}

function readStdin() {
  return new Promise((resolve) => {
    const chunks = [];
    process.stdin.on("data", (c) => chunks.push(c));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

async function main() {
  let stdinKind = "other";
  try {
    const st = fstatSync(0);
    stdinKind = st.isFIFO() ? "pipe" : st.isSocket() ? "socket" : st.isCharacterDevice() ? "tty" : "file";
  } catch {
    stdinKind = "closed";
  }
  const stdin = await readStdin();
  const { step, index } = nextStep();
  const resume = flag("--resume");

  let grandchildPid = null;
  if (step.hang && step.grandchild) {
    const gc = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    grandchildPid = gc.pid;
  }
  const record = {
    invocation: index,
    argv,
    cwd: process.cwd(),
    stdin,
    stdin_kind: stdinKind,
    pid: process.pid,
    grandchild_pid: grandchildPid,
    env: {
      CLAUDECODE: process.env.CLAUDECODE ?? null,
      ANTHROPIC_API_KEY: process.env.ANTHROPIC_API_KEY ?? null,
      FAKE_MARKER: process.env.FAKE_MARKER ?? null,
    },
  };
  if (process.env.FAKE_CLAUDE_RECORD)
    appendFileSync(process.env.FAKE_CLAUDE_RECORD, `${JSON.stringify(record)}\n`);

  if (step.hang) {
    if (step.ignore_sigterm) process.on("SIGTERM", () => {});
    setInterval(() => {}, 1000);
    return;
  }
  if (step.delay_ms) await new Promise((r) => setTimeout(r, step.delay_ms));

  if (step.resume_fail && resume) {
    process.stderr.write(`No conversation found with session ID: ${resume}\n`);
    process.exit(1);
  }

  if (typeof step.stdout === "string") {
    process.stdout.write(step.stdout);
  } else {
    printJson(step, stdin, resume);
  }
  if (step.stderr) process.stderr.write(step.stderr);
  process.exitCode = step.exit_code ?? 0;
}

function printJson(step, stdin, resume) {
  const sessionId = step.session_id ?? resume ?? `sess-${randomUUID()}`;
  const model = step.model ?? "claude-fake-1";
  const text = step.echo ? `echo: ${stdin}` : (step.text ?? "ok");
  const format = flag("--output-format") ?? "text";
  const result = {
    type: "result",
    subtype: step.subtype ?? "success",
    is_error: step.is_error ?? false,
    duration_ms: 12,
    duration_api_ms: 10,
    num_turns: step.num_turns ?? 1,
    session_id: sessionId,
    total_cost_usd: step.cost ?? 0.0123,
    usage: step.usage ?? {
      input_tokens: 10,
      cache_creation_input_tokens: 5,
      cache_read_input_tokens: 100,
      output_tokens: 20,
    },
    modelUsage: { [model]: { inputTokens: 10, outputTokens: 20 } },
    permission_denials: step.permission_denials ?? [],
    stop_reason: step.stop_reason ?? "end_turn",
  };
  if (step.subtype && step.subtype !== "success" && step.text === undefined) {
    // error subtypes carry no `result` text in the real CLI
  } else {
    result.result = text;
  }
  if (step.api_error_status !== undefined) result.api_error_status = step.api_error_status;
  if (step.errors) result.errors = step.errors;

  if (format === "stream-json") {
    const lines = [
      { type: "system", subtype: "init", session_id: sessionId, model, cwd: process.cwd(), tools: ["Read"] },
    ];
    for (const [i, name] of (step.tool_uses ?? []).entries()) {
      const id = `toolu_${i}`;
      lines.push({
        type: "assistant",
        session_id: sessionId,
        message: { id: `msg_t${i}`, role: "assistant", content: [{ type: "tool_use", id, name, input: {} }] },
      });
      lines.push({
        type: "user",
        session_id: sessionId,
        message: { role: "user", content: [{ type: "tool_result", tool_use_id: id, content: "done" }] },
      });
    }
    lines.push({
      type: "assistant",
      session_id: sessionId,
      message: { id: "msg_final", role: "assistant", content: [{ type: "text", text }] },
    });
    if (!step.no_result) lines.push(result);
    process.stdout.write(lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
  } else if (format === "json") {
    if (!step.no_result) process.stdout.write(`${JSON.stringify(result, null, step.pretty ? 2 : 0)}\n`);
  } else {
    process.stdout.write(`${text}\n`);
  }
}
