#!/usr/bin/env node
// Opt-in test of the claude_code backend against the REAL `claude` CLI (npm @anthropic-ai/claude-code),
// fully offline: the CLI talks to a fake Anthropic API on 127.0.0.1, and the built server is driven
// over MCP stdio: agent_run_task → agent_continue_session (native --resume) → agent_verify_task →
// agent_get_session. Not part of `npm test` (it downloads ~400 MB once).
//
//   npm run test:claude-cli
//
// Environment:
//   CLAUDE_CLI_PATH=/path/to/claude   use this binary instead of installing one
//   CLAUDE_CLI_VERSION=2.1.0          version to install (default: latest)
//   CLAUDE_CLI_CACHE=/some/dir        install into (and reuse) this directory instead of a temp dir
//   CLAUDE_AGENT_MCP_TEST_ENTRY=file  server entry to run (default: dist/cli.js, built if missing)
//   KEEP_TMP=1                        keep the temp dir (CLI session files, server state) for inspection
// Exit 0 when every step passes, 1 otherwise. Every process started here is killed by pid.
import { spawnSync } from "node:child_process";
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const log = (...a) => process.stderr.write(`[test-claude-cli] ${a.join(" ")}\n`);
const tmp = mkdtempSync(join(tmpdir(), "claude-cli-test-"));
const failures = [];
const cleanups = [];

function check(name, cond, detail = "") {
  if (cond) log(`ok   ${name}`);
  else {
    log(`FAIL ${name}${detail ? `: ${detail}` : ""}`);
    failures.push(name);
  }
}

function isExecutable(p) {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function runsVersion(p) {
  const r = spawnSync(p, ["--version"], {
    encoding: "utf8",
    timeout: 30_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Installs @anthropic-ai/claude-code with npm and returns the path of a `claude` that runs. */
function installCli() {
  const dir = process.env.CLAUDE_CLI_CACHE ? resolve(process.env.CLAUDE_CLI_CACHE) : join(tmp, "cli");
  mkdirSync(dir, { recursive: true });
  const pkg = "@anthropic-ai/claude-code";
  const existing = findCli(dir);
  if (existing && process.env.CLAUDE_CLI_CACHE) return existing;
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "claude-cli-under-test", private: true, allowScripts: { [pkg]: true } }, null, 2),
  );
  const spec = `${pkg}@${process.env.CLAUDE_CLI_VERSION || "latest"}`;
  log(`installing ${spec} into ${dir} (npm) ...`);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const r = spawnSync(npm, ["install", "--no-audit", "--no-fund", "--loglevel=error", spec], {
    cwd: dir,
    stdio: ["ignore", 2, 2],
    shell: process.platform === "win32",
  });
  if (r.status !== 0) throw new Error(`npm install ${spec} failed (exit ${r.status})`);
  const found = findCli(dir);
  if (!found) throw new Error(`no runnable claude binary found under ${dir}/node_modules`);
  return found;
}

/** node_modules/.bin/claude, or the platform package's binary when the postinstall link did not run. */
function findCli(dir) {
  const nm = join(dir, "node_modules");
  const candidates = [join(nm, ".bin", process.platform === "win32" ? "claude.cmd" : "claude")];
  const scope = join(nm, "@anthropic-ai");
  if (existsSync(scope)) {
    for (const d of readdirSync(scope)) {
      if (!d.startsWith("claude-code")) continue;
      for (const name of ["claude", "claude.exe", join("bin", "claude"), join("bin", "claude.exe")]) {
        candidates.push(join(scope, d, name));
      }
    }
  }
  for (const c of candidates) if (isExecutable(c) && runsVersion(c)) return c;
  return null;
}

/** The lead's fake Anthropic API (TypeScript, bundled on the fly), or a minimal streaming one. */
async function startFakeApi(reply) {
  const helper = join(ROOT, "test", "helpers", "fake-anthropic.ts");
  if (existsSync(helper)) {
    const { build } = await import("esbuild");
    const out = join(tmp, "fake-anthropic.mjs");
    await build({
      entryPoints: [helper],
      outfile: out,
      bundle: true,
      platform: "node",
      format: "esm",
      logLevel: "error",
    });
    const mod = await import(pathToFileURL(out).href);
    const fake = await mod.startFakeAnthropic();
    fake.handler = (req) => reply(mod.lastUserText(req), mod.allText(req));
    return { url: fake.url, requests: () => fake.requests.length, close: () => fake.close() };
  }
  return startMinimalFakeApi(reply);
}

function startMinimalFakeApi(reply) {
  let count = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      if (!req.url?.startsWith("/v1/messages")) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ type: "error", error: { type: "not_found_error", message: "not found" } }));
        return;
      }
      let body = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {}
      if (req.url.includes("count_tokens")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ input_tokens: 10 }));
        return;
      }
      count++;
      const textOf = (c) =>
        typeof c === "string"
          ? c
          : Array.isArray(c)
            ? c
                .map((b) => (b.type === "text" ? b.text : b.type === "tool_result" ? textOf(b.content) : ""))
                .join("\n")
            : "";
      const msgs = body.messages ?? [];
      const lastUser = [...msgs].reverse().find((m) => m.role === "user");
      const all = [textOf(body.system), ...msgs.map((m) => textOf(m.content))].join("\n");
      const text = reply(lastUser ? textOf(lastUser.content) : "", all);
      const id = `msg_fake_${count}`;
      const model = body.model ?? "claude-fake";
      const usage = { input_tokens: 10, output_tokens: 5 };
      if (!body.stream) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            id,
            type: "message",
            role: "assistant",
            model,
            content: [{ type: "text", text }],
            stop_reason: "end_turn",
            stop_sequence: null,
            usage,
          }),
        );
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      const send = (event, data) =>
        res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
      send("message_start", {
        message: {
          id,
          type: "message",
          role: "assistant",
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage,
        },
      });
      send("content_block_start", { index: 0, content_block: { type: "text", text: "" } });
      send("content_block_delta", { index: 0, delta: { type: "text_delta", text } });
      send("content_block_stop", { index: 0 });
      send("message_delta", {
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: { output_tokens: 5 },
      });
      send("message_stop", {});
      res.end();
    });
  });
  return new Promise((ok) =>
    server.listen(0, "127.0.0.1", () =>
      ok({
        url: `http://127.0.0.1:${server.address().port}`,
        requests: () => count,
        close: () => new Promise((r) => server.close(() => r())),
      }),
    ),
  );
}

/** What the fake model says: keyed on markers in the last user message. */
function modelReply(lastUser, all) {
  if (lastUser.includes("PELICAN-RUN")) return "Noted. I will remember the codeword PELICAN.";
  if (lastUser.includes("CONTINUE-ASK")) {
    return all.includes("codeword PELICAN") ? "The codeword was PELICAN." : "I do not know any codeword.";
  }
  if (lastUser.includes("VERIFY-CLAIM")) {
    return [
      "The evidence file says hello.",
      "",
      "VERDICT: pass",
      "FINDINGS:",
      "- evidence.txt contains the word hello",
      "CONTRADICTIONS:",
      "- none",
      "MISSING_EVIDENCE:",
      "- none",
      "RESTRICTIONS:",
      "- none",
    ].join("\n");
  }
  return "OK";
}

async function main() {
  const entry = process.env.CLAUDE_AGENT_MCP_TEST_ENTRY
    ? resolve(process.env.CLAUDE_AGENT_MCP_TEST_ENTRY)
    : join(ROOT, "dist", "cli.js");
  if (!process.env.CLAUDE_AGENT_MCP_TEST_ENTRY && !existsSync(entry)) {
    log("building dist/cli.js ...");
    const b = spawnSync(process.execPath, [join(ROOT, "scripts", "build.mjs")], { stdio: ["ignore", 2, 2] });
    if (b.status !== 0) throw new Error("build failed");
  }

  const cli = process.env.CLAUDE_CLI_PATH ? resolve(process.env.CLAUDE_CLI_PATH) : installCli();
  const version = runsVersion(cli);
  if (!version) throw new Error(`${cli} --version failed`);
  log(`claude CLI: ${cli} (${version})`);

  const fake = await startFakeApi(modelReply);
  cleanups.push(() => fake.close());
  log(`fake Anthropic API: ${fake.url}`);

  const home = join(tmp, "home");
  const work = join(tmp, "work");
  mkdirSync(home, { recursive: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, "evidence.txt"), "hello\n");

  const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
  const { StdioClientTransport } = await import("@modelcontextprotocol/sdk/client/stdio.js");
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [entry],
    cwd: work,
    stderr: "pipe",
    env: {
      PATH: process.env.PATH ?? "",
      HOME: home,
      CLAUDE_AGENT_MCP_EXECUTION_BACKEND: "claude_code",
      CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH: cli,
      CLAUDE_AGENT_MCP_CLAUDE_CODE_INHERIT_API_KEY: "true",
      CLAUDE_AGENT_MCP_CLAUDE_CODE_TIMEOUT: "120",
      CLAUDE_AGENT_MCP_STATE_DIR: join(tmp, "state"),
      CLAUDE_AGENT_MCP_ALLOWED_DIRS: work,
      CLAUDE_AGENT_MCP_LOG_LEVEL: "DEBUG",
      CLAUDE_AGENT_MCP_LOG_FILE: join(tmp, "server.log"),
      ANTHROPIC_API_KEY: "sk-ant-fake-key-for-tests",
      ANTHROPIC_BASE_URL: fake.url,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      CLAUDE_CODE_MAX_RETRIES: "0",
      DISABLE_AUTOUPDATER: "1",
      IS_SANDBOX: "1",
    },
  });
  let serverErr = "";
  transport.stderr?.on("data", (c) => {
    serverErr += String(c);
  });
  const client = new Client({ name: "test-claude-cli", version: "0.0.0" });
  await client.connect(transport, { timeout: 30_000 });
  const pid = transport.pid;
  cleanups.push(async () => {
    await client.close().catch(() => {});
    if (pid) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  });
  const call = async (name, args) => {
    const r = await client.callTool({ name, arguments: args }, undefined, { timeout: 180_000 });
    const text = r.content?.find((c) => c.type === "text")?.text ?? "";
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {}
    return { r, json };
  };

  // 1. run
  const run = await call("agent_run_task", {
    task: "PELICAN-RUN: remember the codeword PELICAN.",
    working_directory: work,
  });
  check("run_task ok", run.json?.ok === true, JSON.stringify(run.json?.errors ?? run.json));
  check(
    "run_task output",
    String(run.json?.result?.output_text).includes("PELICAN"),
    run.json?.result?.output_text,
  );
  check(
    "run_task metrics from the CLI JSON",
    run.json?.result?.metrics?.backend === "claude_code" && run.json?.result?.metrics?.turns >= 1,
  );
  const sessionId = run.json?.session_id;

  // 2. continue: native resume must replay the first exchange to the model
  const cont = await call("agent_continue_session", {
    session_id: sessionId,
    message: "CONTINUE-ASK: what was the codeword?",
  });
  check("continue_session ok", cont.json?.ok === true, JSON.stringify(cont.json?.errors ?? cont.json));
  check(
    "continue used native resume",
    cont.json?.result?.continuation?.mode === "resume",
    JSON.stringify(cont.json?.result?.continuation),
  );
  check(
    "continue remembered the first turn",
    String(cont.json?.result?.output_text).includes("The codeword was PELICAN"),
    cont.json?.result?.output_text,
  );

  // 3. verify (read-only profile)
  const ver = await call("agent_verify_task", {
    task: "VERIFY-CLAIM: evidence.txt says hello",
    evidence_paths: [join(work, "evidence.txt")],
  });
  check("verify_task ok", ver.json?.ok === true, JSON.stringify(ver.json?.errors ?? ver.json));
  check("verify_task verdict pass", ver.json?.result?.verdict === "pass", ver.json?.result?.verdict);

  // 4. get
  const got = await call("agent_get_session", { session_id: sessionId });
  const detail = got.json?.session ?? got.json;
  check("get_session completed", detail?.status === "completed", detail?.status);
  check("fake API was called", fake.requests() >= 3, String(fake.requests()));

  if (failures.length) log(`server stderr (tail):\n${serverErr.slice(-4000)}`);
}

let code = 0;
try {
  await main();
  code = failures.length ? 1 : 0;
} catch (err) {
  log(`error: ${err instanceof Error ? err.stack : String(err)}`);
  code = 1;
} finally {
  for (const c of cleanups.reverse()) await c();
  if (process.env.KEEP_TMP) log(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
log(code === 0 ? "PASS" : `FAILED (${failures.length} check(s))`);
process.exit(code);
