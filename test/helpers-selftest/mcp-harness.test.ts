import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PATH, REPO_ROOT, runCli, startServer, tempStateDir } from "../helpers/mcp-harness.js";

// The harness is exercised against @modelcontextprotocol/server-everything (a devDependency) so this
// test does not depend on dist/cli.js; the e2e suites use it against the built server.
const EVERYTHING = join(REPO_ROOT, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("mcp-harness", () => {
  const saved = { ...process.env };
  beforeAll(() => {
    process.env.ANTHROPIC_API_KEY = "parent-secret";
    process.env.CLAUDE_AGENT_MCP_STATE_DIR = "/parent/state";
  });
  afterAll(() => {
    for (const k of ["ANTHROPIC_API_KEY", "CLAUDE_AGENT_MCP_STATE_DIR"]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it("starts a stdio server, calls tools, passes only a clean env, and kills it on close", async () => {
    const h = await startServer({ entry: EVERYTHING, args: ["stdio"], env: { MY_VAR: "x1" } });
    try {
      expect(h.pid).toBeGreaterThan(0);
      expect(existsSync(h.cwd)).toBe(true);
      const tools = await h.client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain("get-env");

      const env = await h.call<Record<string, string>>("get-env");
      expect(env.isError).toBe(false);
      expect(env.json.MY_VAR).toBe("x1");
      expect(env.json.PATH).toBe(process.env.PATH);
      expect(env.json.ANTHROPIC_API_KEY).toBeUndefined();
      expect(env.json.CLAUDE_AGENT_MCP_STATE_DIR).toBeUndefined();

      const echo = await h.call("echo", { message: "hi" });
      expect(echo.text).toContain("hi");
      expect(echo.json).toBeUndefined(); // not JSON

      const bad = await h.call("echo", {});
      expect(bad.isError).toBe(true);
      expect(bad.text).toContain("Input validation error");
      expect(typeof h.stderr()).toBe("string");
    } finally {
      await h.close();
    }
    expect(alive(h.pid)).toBe(false);
    expect(existsSync(h.cwd)).toBe(false);
  });

  it("kill(SIGKILL) ends the server; close() after that is fine", async () => {
    const h = await startServer({ entry: EVERYTHING, args: ["stdio"] });
    h.kill("SIGKILL");
    expect(await h.waitForExit(5_000)).toBe(true);
    await h.close();
  });

  it("a server that fails to start → error carrying its stderr, process gone", async () => {
    const tmp = await tempStateDir();
    try {
      const script = join(tmp.dir, "bad.mjs");
      await writeFile(script, 'process.stderr.write("config problem: X\\n"); process.exit(1);\n');
      await expect(startServer({ entry: script, startTimeoutMs: 5_000 })).rejects.toThrow(
        /config problem: X/,
      );
    } finally {
      await tmp.cleanup();
    }
  });

  it("runCli captures code, stdout, stderr and stdin with a clean env", async () => {
    const tmp = await tempStateDir();
    try {
      const script = join(tmp.dir, "cli.mjs");
      await writeFile(
        script,
        [
          'let input = "";',
          'process.stdin.on("data", (c) => (input += c));',
          'process.stdin.on("end", () => {',
          "  process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), input, cwd: process.cwd(),",
          "    key: process.env.ANTHROPIC_API_KEY ?? null, mine: process.env.MINE ?? null }));",
          '  process.stderr.write("err-line\\n");',
          "  process.exit(3);",
          "});",
        ].join("\n"),
      );
      const r = await runCli(["--flag", "v"], {
        entry: script,
        env: { MINE: "m" },
        input: "stdin data",
        cwd: tmp.dir,
      });
      expect(r.code).toBe(3);
      expect(r.timedOut).toBe(false);
      expect(r.stderr).toBe("err-line\n");
      expect(JSON.parse(r.stdout)).toEqual({
        argv: ["--flag", "v"],
        input: "stdin data",
        cwd: tmp.dir,
        key: null,
        mine: "m",
      });

      const hang = join(tmp.dir, "hang.mjs");
      await writeFile(hang, "setInterval(() => {}, 1000);\n");
      const t = await runCli([], { entry: hang, timeoutMs: 300 });
      expect(t.timedOut).toBe(true);
      expect(t.signal).toBe("SIGKILL");
    } finally {
      await tmp.cleanup();
    }
  });

  it.runIf(existsSync(CLI_PATH))("the built CLI answers --version", async () => {
    const r = await runCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^claude-agent-mcp \d+\.\d+\.\d+/);
  });
});
