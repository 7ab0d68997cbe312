// Federation against a downstream over streamable HTTP (test/helpers/downstream-server.mjs --http).
import { afterEach, describe, expect, it } from "vitest";
import type { DownstreamServerConfig } from "../../src/federation/config.js";
import { createFederation, type Federation, loadFederationConfig } from "../../src/federation/index.js";
import {
  captureLogger,
  type HttpDownstream,
  httpServer,
  startHttpDownstream,
  toolContext,
  writeConfigFile,
} from "../helpers/downstream-server.js";

const feds: Federation[] = [];
const servers: HttpDownstream[] = [];

function federate(list: DownstreamServerConfig[], logger = captureLogger().logger): Federation {
  const fed = createFederation({ path: "/test/federation.json", servers: list }, logger);
  feds.push(fed);
  return fed;
}

async function downstream(opts: Parameters<typeof startHttpDownstream>[0] = {}): Promise<HttpDownstream> {
  const s = await startHttpDownstream(opts);
  servers.push(s);
  return s;
}

afterEach(async () => {
  await Promise.all(feds.splice(0).map((f) => f.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe("federation over streamable http", () => {
  it("discovers and calls tools, sending the configured headers", async () => {
    const ds = await downstream({ env: { DOWNSTREAM_TOKEN: "tok-123" } });
    const cap = captureLogger();
    const path = writeConfigFile({
      downstream_servers: [
        {
          name: "remote",
          transport: "http",
          url: ds.url,
          headers: { "X-Test-Token": "tok-123" },
          allowed_tools: ["echo", "add", "fail"],
          profiles_allowed: ["general", "verification"],
          call_timeout_seconds: 5,
          read_only: true,
        },
      ],
    });
    const loaded = loadFederationConfig(path);
    if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
    const fed = createFederation(loaded.config, cap.logger);
    feds.push(fed);
    fed.start();
    await fed.ready();
    expect(fed.status().servers[0]).toMatchObject({
      transport: "http",
      connected: true,
      allowed_tool_count: 3,
    });
    expect(fed.status().tools_per_profile).toEqual({ general: 3, verification: 3 });
    const add = fed.toolsFor("verification").find((t) => t.name === "remote__add")!;
    expect(await add.call({ a: 40, b: 2 }, toolContext())).toMatchObject({ isError: false, content: "42" });
    const fail = fed.toolsFor("general").find((t) => t.name === "remote__fail")!;
    expect(await fail.call({}, toolContext())).toMatchObject({
      isError: true,
      content: "it failed: no reason",
    });
    // Header values are secrets: never logged.
    expect(cap.text()).not.toContain("tok-123");
  });

  it("reports a rejected connection (wrong header) as a discovery error", async () => {
    const ds = await downstream({ env: { DOWNSTREAM_TOKEN: "right" } });
    const fed = federate([httpServer("locked", ds.url, { headers: { "X-Test-Token": "wrong" } })]);
    fed.start();
    await fed.ready();
    const st = fed.status().servers[0];
    expect(st.connected).toBe(false);
    expect(st.error).toMatch(/cannot connect/);
    expect(fed.toolsFor("general")).toEqual([]);
  });

  it("reconnects after the downstream goes away and comes back", async () => {
    const first = await downstream();
    const fed = federate([httpServer("web", first.url, { allowedTools: ["echo", "pid"] })]);
    fed.start();
    await fed.ready();
    const pid = fed.toolsFor("general").find((t) => t.name === "web__pid")!;
    expect((await pid.call({}, toolContext())).content).toBe(String(first.pid));

    await first.stop();
    const down = await pid.call({}, toolContext());
    expect(down.isError).toBe(true);
    expect(down.audit).toMatchObject({ error_code: "downstream_invocation_error", invoked: true });
    expect(fed.status().servers[0].connected).toBe(false);

    const second = await downstream({ port: first.port });
    const back = await pid.call({}, toolContext());
    expect(back).toMatchObject({ isError: false, content: String(second.pid) });
    expect(fed.status().servers[0]).toMatchObject({ connected: true, restarts: 1 });
  });

  it("times out a hanging call over http without tearing the session down", async () => {
    const ds = await downstream();
    const fed = federate([
      httpServer("h", ds.url, { allowedTools: ["slow", "echo"], callTimeoutSeconds: 1 }),
    ]);
    fed.start();
    await fed.ready();
    const slow = fed.toolsFor("general").find((t) => t.name === "h__slow")!;
    const out = await slow.call({}, toolContext());
    expect(out).toMatchObject({ isError: true, audit: { error_code: "downstream_timeout" } });
    const echo = fed.toolsFor("general").find((t) => t.name === "h__echo")!;
    expect(await echo.call({ text: "ok" }, toolContext())).toMatchObject({ isError: false, content: "ok" });
  });
});
