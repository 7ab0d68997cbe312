// `claude-agent-mcp doctor`: the built CLI in a clean environment, healthy and each failure.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { errorReply, type FakeAnthropic, startFakeAnthropic, textReply } from "../helpers/fake-anthropic.js";
import { REPO_ROOT, runCli, type TempDir, tempStateDir } from "../helpers/mcp-harness.js";

const FAKE_CLAUDE = join(REPO_ROOT, "test", "helpers", "fake-claude.mjs");
const SECRET = "sk-doctor-secret-0123456789";

let fake: FakeAnthropic;
let dir: TempDir;

beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  fake.reset();
  await dir?.cleanup();
});

async function doctor(env: Record<string, string>, args: string[] = []) {
  dir = await tempStateDir("cam-doctor-");
  const r = await runCli(["doctor", ...args], {
    cwd: dir.dir,
    env: { CLAUDE_AGENT_MCP_STATE_DIR: join(dir.dir, "state"), ...env },
    timeoutMs: 30_000,
  });
  expect(r.stdout + r.stderr).not.toContain(SECRET);
  return r;
}

/** The report line for a label (first match). */
function line(out: string, label: string): string {
  return out.split("\n").find((l) => l.includes(` ${label}:`)) ?? "";
}

describe("doctor (api backend)", () => {
  it("passes on a healthy setup: exit 0, one line per check, schema version and session count", async () => {
    const r = await doctor({ ANTHROPIC_API_KEY: SECRET });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("claude-agent-mcp");
    expect(line(r.stdout, "configuration")).toMatch(/^ {2}✓ configuration: valid \(backend api/);
    expect(line(r.stdout, "state dir")).toMatch(/✓ state dir: .*state \(writable\)/);
    expect(line(r.stdout, "artifact dir")).toMatch(/✓ artifact dir:/);
    expect(line(r.stdout, "database")).toMatch(
      /✓ database: .*claude-agent-mcp\.db \(schema version \d+, 0 sessions\)/,
    );
    expect(line(r.stdout, "API key")).toMatch(/✓ API key: ANTHROPIC_API_KEY is set \(value not shown\)/);
    expect(line(r.stdout, "federation")).toMatch(/- federation: disabled/);
    expect(line(r.stdout, "model call")).toMatch(/skipped/);
    expect(r.stdout).toMatch(/All \d+ checks passed\./);
    expect(r.stdout).not.toContain("✗");
    expect(fake.requests).toHaveLength(0);
  });

  it("fails without an API key, names the variable and gives a hint; still checks the state", async () => {
    const r = await doctor({});
    expect(r.code).toBe(1);
    expect(line(r.stdout, "ANTHROPIC_API_KEY")).toMatch(/✗ ANTHROPIC_API_KEY: not set/);
    expect(r.stdout).toMatch(/hint: export ANTHROPIC_API_KEY/);
    expect(line(r.stdout, "state dir")).toContain("✓");
    expect(line(r.stdout, "database")).toContain("✓");
    expect(line(r.stdout, "backend")).toMatch(/not checked/);
    expect(r.stdout).toMatch(/1 of \d+ checks failed/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it("fails on an unusable state dir", async () => {
    dir = await tempStateDir("cam-doctor-");
    const file = join(dir.dir, "plain-file");
    writeFileSync(file, "x");
    const r = await runCli(["doctor"], {
      cwd: dir.dir,
      env: { ANTHROPIC_API_KEY: SECRET, CLAUDE_AGENT_MCP_STATE_DIR: join(file, "state") },
    });
    expect(r.code).toBe(1);
    expect(line(r.stdout, "CLAUDE_AGENT_MCP_STATE_DIR")).toMatch(
      /✗ CLAUDE_AGENT_MCP_STATE_DIR: .* is not a writable directory/,
    );
    expect(r.stdout).toMatch(/hint: .*directory/);
    expect(line(r.stdout, "state")).toMatch(/not checked/);
  });

  it("fails on an unknown backend and on a bad integer, listing both", async () => {
    const r = await doctor({
      ANTHROPIC_API_KEY: SECRET,
      CLAUDE_AGENT_MCP_EXECUTION_BACKEND: "gpt",
      CLAUDE_AGENT_MCP_LOCK_TTL: "soon",
    });
    expect(r.code).toBe(1);
    expect(line(r.stdout, "CLAUDE_AGENT_MCP_EXECUTION_BACKEND")).toMatch(
      /✗ .*"gpt" is not one of api, claude_code/,
    );
    expect(r.stdout).toMatch(/hint: use api .* or claude_code/);
    expect(line(r.stdout, "CLAUDE_AGENT_MCP_LOCK_TTL")).toMatch(/✗ .*expected an integer/);
    expect(r.stdout).toMatch(/2 of \d+ checks failed/);
  });

  it("reads --env-file and fails clearly when it is missing", async () => {
    dir = await tempStateDir("cam-doctor-");
    writeFileSync(join(dir.dir, "custom.env"), `ANTHROPIC_API_KEY=${SECRET}\n`);
    const ok = await runCli(["doctor", "--env-file", "custom.env"], {
      cwd: dir.dir,
      env: { CLAUDE_AGENT_MCP_STATE_DIR: join(dir.dir, "state") },
    });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(join(dir.dir, "custom.env"));
    expect(ok.stdout).not.toContain(SECRET);
    // Node 20 itself reads a `--env-file` that follows the script name (nodejs/node#54232) and exits 9
    // on a missing file before our code runs; newer Node leaves it to us (exit 1, a ✗ line).
    const missing = await runCli(["doctor", "--env-file", "nope.env"], { cwd: dir.dir, env: {} });
    expect(missing.code).not.toBe(0);
    expect(missing.stdout + missing.stderr).toContain("nope.env");
    if (missing.code === 1) expect(missing.stdout).toMatch(/✗ --env-file: file not found/);
  });

  it("--live makes one small call and reports success", async () => {
    fake.enqueue(textReply("OK"));
    const r = await doctor(
      { ANTHROPIC_API_KEY: SECRET, ANTHROPIC_BASE_URL: fake.url, CLAUDE_AGENT_MCP_MODEL: "claude-fake" },
      ["--live"],
    );
    expect(r.code).toBe(0);
    expect(line(r.stdout, "model call")).toMatch(/✓ model call: .* answered in \d+ ms: "OK"/);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0].body.max_tokens).toBe(16);
    expect(fake.requests[0].body.model).toBe("claude-fake");
  });

  it("--live reports a refused key as api_auth_failed with a hint", async () => {
    fake.enqueue(errorReply(401));
    const r = await doctor({ ANTHROPIC_API_KEY: SECRET, ANTHROPIC_BASE_URL: fake.url }, ["--live"]);
    expect(r.code).toBe(1);
    expect(line(r.stdout, "model call")).toMatch(/✗ model call: api_auth_failed \(backend_auth_failure\)/);
    expect(r.stdout).toMatch(/hint: the API key was refused/);
  });

  it("--live reports an unreachable endpoint as api_connection_error", async () => {
    const r = await doctor({ ANTHROPIC_API_KEY: SECRET, ANTHROPIC_BASE_URL: "http://127.0.0.1:9" }, [
      "--live",
    ]);
    expect(r.code).toBe(1);
    expect(line(r.stdout, "model call")).toMatch(/api_connection_error/);
    expect(line(r.stdout, "endpoint")).toContain("http://127.0.0.1:9");
  });

  it("never prints credentials embedded in ANTHROPIC_BASE_URL", async () => {
    const r = await doctor({
      ANTHROPIC_API_KEY: "k",
      ANTHROPIC_BASE_URL: `http://user:${SECRET}@127.0.0.1:9/x`,
    });
    expect(r.code).toBe(0);
    expect(line(r.stdout, "endpoint")).toContain("http://127.0.0.1:9/x");
  });
});

describe("doctor (claude_code backend)", () => {
  const cc = (extra: Record<string, string> = {}) => ({
    CLAUDE_AGENT_MCP_EXECUTION_BACKEND: "claude_code",
    CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH: FAKE_CLAUDE,
    ...extra,
  });

  it("reports the CLI path, its version and a login hint", async () => {
    const r = await doctor(cc());
    expect(r.code).toBe(0);
    expect(line(r.stdout, "claude CLI")).toContain(`✓ claude CLI: ${FAKE_CLAUDE}`);
    expect(line(r.stdout, "claude --version")).toContain("✓ claude --version: 9.9.9 (Claude Code)");
    expect(line(r.stdout, "login")).toMatch(/\/login/);
  });

  it("fails when the CLI is missing", async () => {
    const r = await doctor(cc({ CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH: "/nonexistent/claude" }));
    expect(r.code).toBe(1);
    expect(line(r.stdout, "CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH")).toMatch(/✗ .*not a file/);
    expect(r.stdout).toMatch(/hint: install Claude Code/);
  });

  it("fails when `claude --version` fails", async () => {
    dir = await tempStateDir("cam-doctor-");
    const script = join(dir.dir, "script.json");
    writeFileSync(script, JSON.stringify({ version_exit: 3 }));
    const r = await runCli(["doctor"], {
      cwd: dir.dir,
      env: { ...cc(), FAKE_CLAUDE_SCRIPT: script, CLAUDE_AGENT_MCP_STATE_DIR: join(dir.dir, "state") },
    });
    expect(r.code).toBe(1);
    expect(line(r.stdout, "claude --version")).toMatch(/✗ claude --version: .*exited with code 3/);
  });

  it("--live runs claude once: success, then a not-logged-in failure classified with a hint", async () => {
    dir = await tempStateDir("cam-doctor-");
    const script = join(dir.dir, "script.json");
    const record = join(dir.dir, "record.jsonl");
    const env = {
      ...cc(),
      FAKE_CLAUDE_SCRIPT: script,
      FAKE_CLAUDE_RECORD: record,
      CLAUDE_AGENT_MCP_STATE_DIR: join(dir.dir, "state"),
    };
    writeFileSync(script, JSON.stringify({ steps: [{ text: "OK" }] }));
    const ok = await runCli(["doctor", "--live"], { cwd: dir.dir, env });
    expect(ok.code).toBe(0);
    expect(line(ok.stdout, "model call")).toMatch(/✓ model call: claude answered in \d+ ms: "OK"/);

    writeFileSync(
      script,
      JSON.stringify({
        steps: [
          { is_error: true, subtype: "success", text: "Invalid API key · Please run /login", exit_code: 1 },
        ],
      }),
    );
    const bad = await runCli(["doctor", "--live"], { cwd: dir.dir, env });
    expect(bad.code).toBe(1);
    expect(line(bad.stdout, "model call")).toMatch(/✗ model call: claude_code_not_authenticated/);
    expect(bad.stdout).toMatch(/hint: log in/);
  });
});

describe("doctor (federation)", () => {
  it("passes with a valid federation file and fails on a bad one", async () => {
    dir = await tempStateDir("cam-doctor-");
    const good = join(dir.dir, "fed.json");
    writeFileSync(
      good,
      JSON.stringify({
        downstream_servers: [
          {
            name: "files",
            transport: "stdio",
            command: "node",
            args: ["server.js"],
            allowed_tools: ["read"],
            env: { TOKEN: SECRET },
          },
        ],
      }),
    );
    const env = {
      ANTHROPIC_API_KEY: SECRET,
      CLAUDE_AGENT_MCP_STATE_DIR: join(dir.dir, "state"),
      CLAUDE_AGENT_MCP_FEDERATION_ENABLED: "true",
      CLAUDE_AGENT_MCP_FEDERATION_CONFIG: good,
    };
    const ok = await runCli(["doctor"], { cwd: dir.dir, env });
    expect(ok.code).toBe(0);
    expect(line(ok.stdout, "federation config")).toMatch(
      /✓ federation config: .*1 server, 1 enabled: files \(stdio\)/,
    );
    expect(ok.stdout).not.toContain(SECRET);

    const bad = join(dir.dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ downstream_servers: [{ name: "x", transport: "carrier-pigeon" }] }));
    const r = await runCli(["doctor"], {
      cwd: dir.dir,
      env: { ...env, CLAUDE_AGENT_MCP_FEDERATION_CONFIG: bad },
    });
    expect(r.code).toBe(1);
    expect(line(r.stdout, "federation config")).toMatch(/✗ federation config: .*bad\.json/);
    expect(r.stdout).toMatch(/hint: fix the file/);

    writeFileSync(bad, "{not json");
    const r2 = await runCli(["doctor"], {
      cwd: dir.dir,
      env: { ...env, CLAUDE_AGENT_MCP_FEDERATION_CONFIG: bad },
    });
    expect(r2.code).toBe(1);
    expect(r2.stdout).toMatch(/✗ federation config: .*invalid JSON/);
  });
});
