// Configuration: presets, legacy names, strict parsing, precedence, no side effects.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), "cam-config-"));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

const base = { ANTHROPIC_API_KEY: "k-123456", PATH: process.env.PATH ?? "" };
const load = (env: Record<string, string>, flags = {}) =>
  loadConfig({ env: { ...base, ...env }, cwd, flags });

describe("config", () => {
  it("has the original's defaults", () => {
    const r = load({});
    if (!r.ok) throw new Error(r.problems.join("\n"));
    expect(r.config).toMatchObject({
      transport: "stdio",
      host: "127.0.0.1",
      port: 8000,
      model: "claude-sonnet-4-6",
      lockTtlSeconds: 300,
      maxArtifactBytes: 10485760,
      logLevel: "INFO",
      executionBackend: "api",
      operatorPreset: null,
      federationEnabled: false,
      workspaceTools: true,
      defaultWaitSeconds: 0,
      progressIntervalSeconds: 15,
    });
    expect(r.config.stateDir.endsWith(".state")).toBe(true);
    expect(r.config.allowedDirs).toHaveLength(1);
    expect(r.config.claudeCode).toMatchObject({ timeoutSeconds: 300, maxSessionMediatedApprovals: 100 });
    expect(existsSync(r.config.stateDir)).toBe(false); // loading creates nothing
  });

  it("applies presets below explicit variables and honours legacy names", () => {
    const r = load({
      CLAUDE_AGENT_MCP_OPERATOR_PROFILE: "Workflow_Limited",
      CLAUDE_AGENT_MCP_CLAUDE_CODE_MAX_MEDIATED_ACTIONS_PER_TURN: "2",
      CLAUDE_AGENT_MODEL: "legacy-model",
      CLAUDE_AGENT_LOCK_TTL_SECONDS: "60",
    });
    if (!r.ok) throw new Error(r.problems.join("\n"));
    expect(r.config.operatorPreset).toBe("workflow_limited");
    expect(r.config.claudeCode).toMatchObject({
      enableExecutionMediation: true,
      maxMediatedActionsPerTurn: 2,
      maxMediatedWorkflowSteps: 3,
      maxSessionMediatedApprovals: 30,
      mediationPolicyProfile: "workflow_limited",
    });
    expect(r.config.model).toBe("legacy-model");
    expect(r.config.lockTtlSeconds).toBe(60);
    const both = load({ CLAUDE_AGENT_MODEL: "legacy", CLAUDE_AGENT_MCP_MODEL: "primary" });
    expect(both.ok && both.config.model).toBe("primary");
  });

  it("collects every problem at once", () => {
    const r = load({
      CLAUDE_AGENT_MCP_PORT: "80x",
      CLAUDE_AGENT_MCP_TRANSPORT: "sse",
      CLAUDE_AGENT_MCP_FEDERATION_ENABLED: "maybe",
      CLAUDE_AGENT_MCP_LOG_LEVEL: "VERBOSE",
      CLAUDE_AGENT_MCP_MODE: "apntalk_verification",
      CLAUDE_AGENT_MCP_CLAUDE_CODE_ALLOWED_MEDIATED_ACTION_TYPES: "read,write",
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const text = r.problems.join("\n");
    for (const v of [
      "CLAUDE_AGENT_MCP_PORT",
      "CLAUDE_AGENT_MCP_TRANSPORT",
      "CLAUDE_AGENT_MCP_FEDERATION_ENABLED",
      "CLAUDE_AGENT_MCP_LOG_LEVEL",
      "CLAUDE_AGENT_MCP_MODE",
      "ALLOWED_MEDIATED_ACTION_TYPES",
    ]) {
      expect(text).toContain(v);
    }
    expect(r.problems).toHaveLength(6);
  });

  it("requires the API key for the api backend and the CLI for claude_code", () => {
    const noKey = loadConfig({ env: { PATH: "" }, cwd });
    expect(!noKey.ok && noKey.problems.join()).toContain("ANTHROPIC_API_KEY");
    const noCli = loadConfig({ env: { PATH: cwd, CLAUDE_AGENT_MCP_EXECUTION_BACKEND: "claude_code" }, cwd });
    expect(!noCli.ok && noCli.problems.join()).toContain("CLAUDE_AGENT_MCP_CLAUDE_CODE_CLI_PATH");
  });

  it("refuses a non-loopback HTTP bind without a token", () => {
    const r = load({ CLAUDE_AGENT_MCP_TRANSPORT: "streamable-http", CLAUDE_AGENT_MCP_HOST: "0.0.0.0" });
    expect(!r.ok && r.problems.join()).toContain("CLAUDE_AGENT_MCP_HTTP_AUTH_TOKEN");
    const ok = load({
      CLAUDE_AGENT_MCP_TRANSPORT: "streamable-http",
      CLAUDE_AGENT_MCP_HOST: "0.0.0.0",
      CLAUDE_AGENT_MCP_HTTP_AUTH_TOKEN: "a-long-token",
    });
    expect(ok.ok).toBe(true);
    const flag = load({}, { transport: "streamable-http", port: "99999" });
    expect(!flag.ok && flag.problems.join()).toContain("--port");
  });

  it("reads --env-file, with the real environment winning", () => {
    const f = join(cwd, "custom.env");
    writeFileSync(f, "CLAUDE_AGENT_MCP_MODEL=file-model\nCLAUDE_AGENT_MCP_PORT=9001\n");
    const r = load({ CLAUDE_AGENT_MCP_PORT: "9002" }, { envFile: f });
    if (!r.ok) throw new Error(r.problems.join("\n"));
    expect(r.config.model).toBe("file-model");
    expect(r.config.port).toBe(9002);
    const missing = load({}, { envFile: join(cwd, "nope.env") });
    expect(!missing.ok && missing.problems.join()).toContain("--env-file");
  });
});
