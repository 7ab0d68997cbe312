// Federation against real downstream MCP servers over stdio (test/helpers/downstream-server.mjs).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentTool } from "../../src/backends/backend.js";
import type { DownstreamServerConfig } from "../../src/federation/config.js";
import {
  createFederation,
  type Federation,
  type FederationAudit,
  federationAuditEvents,
} from "../../src/federation/index.js";
import { captureLogger, pidAlive, stdioServer, toolContext, waitFor } from "../helpers/downstream-server.js";

const open: Federation[] = [];

function federate(servers: DownstreamServerConfig[], logger = captureLogger().logger): Federation {
  const fed = createFederation({ path: "/test/federation.json", servers }, logger);
  open.push(fed);
  return fed;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((f) => f.close()));
});

function tool(fed: Federation, name: string, profile: "general" | "verification" = "general"): AgentTool {
  const t = fed.toolsFor(profile).find((x) => x.name === name);
  if (!t) throw new Error(`${name} not visible to ${profile}: ${fed.toolsFor(profile).map((x) => x.name)}`);
  return t;
}

const ALL = [
  "echo",
  "add",
  "slow",
  "crash",
  "fail",
  "big",
  "image",
  "env_keys",
  "pid",
  "structured",
  "read_only",
];

describe("federation over stdio", () => {
  it("offers allowlisted tools per profile, prefixed, and hides the rest", async () => {
    const fed = federate([
      stdioServer("alpha", { allowedTools: ["echo", "add", "read_only"], profilesAllowed: ["general"] }),
      stdioServer("beta", {
        allowedTools: ["echo"],
        profilesAllowed: ["general", "verification"],
        readOnly: true,
      }),
      stdioServer("delta", { allowedTools: ["echo", "read_only"], profilesAllowed: ["verification"] }),
      stdioServer("gamma", { allowedTools: ["echo"], profilesAllowed: [] }),
      stdioServer("off", { enabled: false, allowedTools: ["echo"], profilesAllowed: ["general"] }),
    ]);
    fed.start();
    await fed.ready();
    expect(
      fed
        .toolsFor("general")
        .map((t) => t.name)
        .sort(),
    ).toEqual(["alpha__add", "alpha__echo", "alpha__read_only", "beta__echo"]);
    // Read-only profile: only read-only tools (readOnlyHint, or the server's read_only flag).
    expect(fed.toolsFor("verification").map((t) => t.name)).toEqual(["beta__echo", "delta__read_only"]);
    const echo = tool(fed, "alpha__echo");
    expect(echo).toMatchObject({ source: "federation", description: "Echo the text back", readOnly: false });
    expect(echo.inputSchema).toMatchObject({ type: "object", required: ["text"] });
    expect(echo.inputSchema).not.toHaveProperty("$schema");
    expect(tool(fed, "alpha__read_only").readOnly).toBe(true);

    const st = fed.status();
    expect(st).toMatchObject({
      enabled: true,
      active: true,
      discovery: "complete",
      tools_per_profile: { general: 4, verification: 2 },
    });
    const alpha = st.servers.find((s) => s.name === "alpha");
    expect(alpha).toMatchObject({
      transport: "stdio",
      connected: true,
      tool_count: 12,
      allowed_tool_count: 3,
      error: null,
    });
    expect(st.servers.find((s) => s.name === "off")).toMatchObject({ enabled: false, state: "disabled" });
    expect(st.servers.find((s) => s.name === "gamma")).toMatchObject({
      connected: true,
      allowed_tool_count: 1,
    });
  });

  it("calls a tool over one long-lived process and audits keys only", async () => {
    const fed = federate([stdioServer("srv", { allowedTools: ["echo", "pid"] })]);
    fed.start();
    await fed.ready();
    const out = await tool(fed, "srv__echo").call({ text: "hello sekrit-value" }, toolContext());
    expect(out.isError).toBe(false);
    expect(out.content).toBe("hello sekrit-value");
    const audit = out.audit as unknown as FederationAudit;
    expect(audit).toMatchObject({
      source: "federation",
      normalized_name: "srv__echo",
      server: "srv",
      downstream_name: "echo",
      input_keys: ["text"],
      success: true,
      error_message: null,
      invoked: true,
    });
    expect(JSON.stringify(audit)).not.toContain("sekrit");
    const events = federationAuditEvents(audit);
    expect(events.map((e) => e.type)).toEqual(["downstream_tool_invocation", "downstream_tool_result"]);
    expect(events[0].payload).toEqual({
      normalized_name: "srv__echo",
      server: "srv",
      downstream_name: "echo",
      input_keys: ["text"],
    });
    expect(events[1].payload).toMatchObject({
      normalized_name: "srv__echo",
      success: true,
      error_message: null,
    });

    const pid1 = (await tool(fed, "srv__pid").call({}, toolContext())).content;
    const pid2 = (await tool(fed, "srv__pid").call(undefined, toolContext())).content;
    expect(pid1).toBe(pid2);
    expect(String(fed.childPids().srv)).toBe(pid1);
  });

  it("follows tools/list pagination", async () => {
    const fed = federate([
      stdioServer("paged", {
        flags: ["--page-size", "3", "--extra-tools", "40"],
        allowedTools: ["echo", "filler_39"],
      }),
    ]);
    fed.start();
    await fed.ready();
    expect(fed.status().servers[0].tool_count).toBe(52);
    expect(
      fed
        .toolsFor("general")
        .map((t) => t.name)
        .sort(),
    ).toEqual(["paged__echo", "paged__filler_39"]);
    expect((await tool(fed, "paged__filler_39").call({}, toolContext())).content).toBe("filler_39");
  });

  it("validates arguments against the downstream schema before calling", async () => {
    const fed = federate([stdioServer("v", { allowedTools: ["add", "big", "read_only"] })]);
    fed.start();
    await fed.ready();
    const add = tool(fed, "v__add");
    const missing = await add.call({ a: 1 }, toolContext());
    expect(missing.isError).toBe(true);
    expect(missing.content).toMatch(/invalid arguments for v__add: missing required field b/);
    expect(missing.audit).toMatchObject({
      success: false,
      invoked: false,
      error_code: "downstream_schema_validation_error",
      input_keys: ["a"],
    });
    expect(federationAuditEvents(missing.audit as unknown as FederationAudit).map((e) => e.type)).toEqual([
      "downstream_tool_result",
    ]);
    const wrongType = await add.call({ a: 1, b: "two-secret" }, toolContext());
    expect(wrongType.isError).toBe(true);
    expect(wrongType.content).toMatch(/b must be number/);
    expect(wrongType.content).not.toContain("two-secret");
    expect((await add.call([1, 2], toolContext())).content).toMatch(/arguments must be an object/);
    const enumBad = await tool(fed, "v__read_only").call({ key: "zzz" }, toolContext());
    expect(enumBad.content).toMatch(/key must be equal to one of the allowed values/);
    const intBad = await tool(fed, "v__big").call({ size: 1.5 }, toolContext());
    expect(intBad.content).toMatch(/size must be integer/);
    const ok = await add.call({ a: 2, b: 3 }, toolContext());
    expect(ok).toMatchObject({ isError: false, content: "5" });
  });

  it("honours isError from the downstream", async () => {
    const fed = federate([stdioServer("f", { allowedTools: ["fail"] })]);
    fed.start();
    await fed.ready();
    const out = await tool(fed, "f__fail").call({ reason: "private-detail" }, toolContext());
    expect(out.isError).toBe(true);
    expect(out.content).toBe("it failed: private-detail");
    expect(out.audit).toMatchObject({ success: false, invoked: true, error_code: "downstream_tool_error" });
    // The downstream's text may echo arguments: it is not copied into the audit record.
    expect(JSON.stringify(out.audit)).not.toContain("private-detail");
    const events = federationAuditEvents(out.audit as unknown as FederationAudit);
    expect(events).toHaveLength(2);
    expect(events[1].payload).toMatchObject({ success: false, error_code: "downstream_tool_error" });
  });

  it("caps large text and reports binary content by type and size", async () => {
    const fed = federate([
      stdioServer("b", { allowedTools: ["big", "image", "structured"], maxResultChars: 1000 }),
    ]);
    fed.start();
    await fed.ready();
    const big = await tool(fed, "b__big").call({ size: 5000 }, toolContext());
    expect(big.isError).toBe(false);
    expect(big.content.startsWith("x".repeat(1000))).toBe(true);
    expect(big.content).toMatch(/\[truncated: showing the first 1000 of 5000 characters\]$/);
    expect(big.audit).toMatchObject({ truncated: true, success: true });
    const img = await tool(fed, "b__image").call({}, toolContext());
    expect(img.content).toBe("here is an image\n[image content: image/png, 70 bytes, not shown]");
    expect(img.content).not.toContain("iVBOR");
    const structured = await tool(fed, "b__structured").call({ n: 4 }, toolContext());
    expect(JSON.parse(structured.content)).toEqual({ n: 4, doubled: 8 });
  });

  it("times out a hanging call and restarts the stuck server on next use", async () => {
    const fed = federate([
      stdioServer("h", { allowedTools: ["slow", "echo", "pid"], callTimeoutSeconds: 1 }),
    ]);
    fed.start();
    await fed.ready();
    const before = fed.childPids().h!;
    const started = Date.now();
    const out = await tool(fed, "h__slow").call({}, toolContext());
    expect(Date.now() - started).toBeLessThan(5000);
    expect(out.isError).toBe(true);
    expect(out.content).toMatch(
      /Invocation of 'slow' on server 'h' failed: call to 'slow' timed out after 1s/,
    );
    expect(out.audit).toMatchObject({ error_code: "downstream_timeout", invoked: true });
    await waitFor(() => !pidAlive(before));
    const again = await tool(fed, "h__echo").call({ text: "back" }, toolContext());
    expect(again).toMatchObject({ isError: false, content: "back" });
    expect(fed.childPids().h).not.toBe(before);
    expect(fed.status().servers[0]).toMatchObject({ connected: true, restarts: 1 });
    // A slow call that finishes inside the timeout is fine.
    expect((await tool(fed, "h__slow").call({ seconds: 0.1 }, toolContext())).content).toBe("slept 0.1s");
  });

  it("restarts a server that crashed mid-call on next use", async () => {
    const cap = captureLogger();
    const fed = federate([stdioServer("c", { allowedTools: ["crash", "pid"] })], cap.logger);
    fed.start();
    await fed.ready();
    const pid1 = Number((await tool(fed, "c__pid").call({}, toolContext())).content);
    const out = await tool(fed, "c__crash").call({}, toolContext());
    expect(out.isError).toBe(true);
    expect(out.content).toMatch(/Invocation of 'crash' on server 'c' failed: .*Connection closed/);
    expect(out.audit).toMatchObject({ error_code: "downstream_invocation_error", invoked: true });
    await waitFor(() => fed.status().servers[0].connected === false);
    expect(fed.status().servers[0].error).toMatch(/connection closed/);
    const pid2 = Number((await tool(fed, "c__pid").call({}, toolContext())).content);
    expect(pid2).not.toBe(pid1);
    expect(pidAlive(pid1)).toBe(false);
    expect(fed.status().servers[0]).toMatchObject({ connected: true, restarts: 1, error: null });
    // Downstream stderr reached our logger (never stdout), and the crash was logged with its tail.
    expect(cap.text()).toContain("crashing mid-call as asked");
  });

  it("cancels a call when the run is aborted", async () => {
    const fed = federate([stdioServer("a", { allowedTools: ["slow", "echo"] })]);
    fed.start();
    await fed.ready();
    const ac = new AbortController();
    const pending = tool(fed, "a__slow").call({}, toolContext(ac.signal));
    setTimeout(() => ac.abort(), 200);
    const out = await pending;
    expect(out).toMatchObject({ isError: true, audit: { error_code: "downstream_call_cancelled" } });
    // Cancellation does not kill the server.
    expect((await tool(fed, "a__echo").call({ text: "still here" }, toolContext())).content).toBe(
      "still here",
    );
  });

  it("passes only the env whitelist plus the configured env", async () => {
    process.env.FED_TEST_LEAK = "should-not-leak";
    try {
      const fed = federate([stdioServer("e", { allowedTools: ["env_keys"], env: { CONFIGURED_VAR: "1" } })]);
      fed.start();
      await fed.ready();
      const keys = JSON.parse((await tool(fed, "e__env_keys").call({}, toolContext())).content) as string[];
      expect(keys).toContain("CONFIGURED_VAR");
      expect(keys).toContain("PATH");
      expect(keys).not.toContain("FED_TEST_LEAK");
      expect(keys).not.toContain("ANTHROPIC_API_KEY");
      expect(keys).not.toContain("NODE_OPTIONS");
    } finally {
      delete process.env.FED_TEST_LEAK;
    }
  });

  it("does not block start() and reports pending discovery", async () => {
    const fed = federate([stdioServer("late", { flags: ["--start-delay", "1500"], allowedTools: ["echo"] })]);
    const t0 = Date.now();
    fed.start();
    expect(Date.now() - t0).toBeLessThan(50);
    expect(fed.status()).toMatchObject({ discovery: "pending", active: false });
    expect(fed.toolsFor("general")).toEqual([]);
    await fed.ready({ timeoutMs: 100 });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(fed.toolsFor("general")).toEqual([]);
    await fed.ready();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    expect(fed.status()).toMatchObject({ discovery: "complete", active: true });
    expect(fed.toolsFor("general").map((t) => t.name)).toEqual(["late__echo"]);
  });

  it("times out discovery per server and keeps the others", async () => {
    const cap = captureLogger();
    const fed = federate(
      [
        stdioServer("hang", { flags: ["--hang-on-start"], discoveryTimeoutSeconds: 1 }),
        stdioServer("dead", { flags: ["--crash-on-start"] }),
        stdioServer("nope", { command: "/definitely/not/a/command", args: [] }),
        stdioServer("good", { allowedTools: ["echo", "no_such_tool"] }),
      ],
      cap.logger,
    );
    const t0 = Date.now();
    fed.start();
    await fed.ready();
    expect(Date.now() - t0).toBeLessThan(5000);
    const st = fed.status();
    const by = (n: string) => st.servers.find((s) => s.name === n)!;
    expect(by("hang")).toMatchObject({ connected: false, state: "failed", tool_count: 0 });
    expect(by("hang").error).toMatch(/discovery timed out after 1s/);
    expect(by("dead").error).toMatch(/cannot connect|closed/i);
    expect(by("nope").error).toMatch(/ENOENT|cannot connect/);
    expect(by("good")).toMatchObject({ connected: true, missing_allowed_tools: ["no_such_tool"] });
    expect(fed.toolsFor("general").map((t) => t.name)).toEqual(["good__echo"]);
    expect(fed.discoveryWarnings()).toEqual([
      `federation server 'good': allowed_tools entry "no_such_tool" match no tool the server offers`,
    ]);
    expect(cap.text()).toMatch(/does not offer allowlisted tool\(s\) no_such_tool/);
    expect(cap.text()).toMatch(/federation initialized: 1\/4 server\(s\) connected/);
  });

  it("rediscovers a server whose discovery failed, in the background of a later ready()", async () => {
    const marker = join(mkdtempSync(join(tmpdir(), "fed-once-")), "marker");
    const fed = createFederation(
      {
        path: "/test/federation.json",
        servers: [stdioServer("flaky", { flags: ["--crash-on-start-once", marker] })],
      },
      captureLogger().logger,
      { discoveryRetryMinMs: 200 },
    );
    open.push(fed);
    fed.start();
    await fed.ready();
    expect(fed.status().servers[0]).toMatchObject({ state: "failed", connected: false });
    expect(fed.toolsFor("general")).toEqual([]);
    // Too early: still in its retry delay, nothing happens.
    await fed.ready();
    expect(fed.status().servers[0].state).toBe("failed");
    await new Promise((r) => setTimeout(r, 250));
    await fed.ready(); // starts the retry in the background
    await waitFor(() => fed.status().servers[0].connected);
    await fed.ready();
    expect(fed.toolsFor("general").map((t) => t.name)).toEqual(["flaky__echo"]);
  });

  it("close() ends every child process", async () => {
    const fed = federate([stdioServer("k1", {}), stdioServer("k2", {})]);
    fed.start();
    await fed.ready();
    const pids = Object.values(fed.childPids()) as number[];
    expect(pids).toHaveLength(2);
    for (const p of pids) expect(pidAlive(p)).toBe(true);
    const t0 = Date.now();
    await fed.close();
    expect(Date.now() - t0).toBeLessThan(3000);
    await waitFor(() => pids.every((p) => !pidAlive(p)));
    const out = await fed.toolsFor("general")[0].call({ text: "x" }, toolContext());
    expect(out).toMatchObject({ isError: true, audit: { error_code: "downstream_unavailable" } });
  });

  it("close() during discovery kills the child too", async () => {
    const fed = federate([
      stdioServer("slowstart", { flags: ["--hang-on-start"], discoveryTimeoutSeconds: 20 }),
    ]);
    fed.start();
    await new Promise((r) => setTimeout(r, 300));
    await fed.close();
    await fed.ready();
    expect(fed.toolsFor("general")).toEqual([]);
  });

  it("exposes all test tools when allowlisted", async () => {
    const fed = federate([
      stdioServer("all", { allowedTools: ALL, profilesAllowed: ["general", "verification"], readOnly: true }),
    ]);
    fed.start();
    await fed.ready();
    expect(fed.toolsFor("verification")).toHaveLength(ALL.length);
    expect(fed.visibleToolNames("general")).toContain("all__env_keys");
  });
});
