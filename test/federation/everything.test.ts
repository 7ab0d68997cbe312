// Federation against a published server: @modelcontextprotocol/server-everything over stdio.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFederation, type Federation } from "../../src/federation/index.js";
import { captureLogger, EVERYTHING_SERVER, stdioServer, toolContext } from "../helpers/downstream-server.js";

let fed: Federation;

beforeAll(async () => {
  fed = createFederation(
    {
      path: "/test/federation.json",
      servers: [
        stdioServer("everything", {
          command: process.execPath,
          args: [EVERYTHING_SERVER, "stdio"],
          allowedTools: ["echo", "get-sum", "get-tiny-image", "get-structured-content", "not-a-real-tool"],
          profilesAllowed: ["general"],
          discoveryTimeoutSeconds: 20,
        }),
        stdioServer("everything_ro", {
          command: process.execPath,
          args: [EVERYTHING_SERVER, "stdio"],
          allowedTools: ["get-sum"],
          profilesAllowed: ["verification"],
          readOnly: true,
          discoveryTimeoutSeconds: 20,
        }),
      ],
    },
    captureLogger().logger,
  );
  fed.start();
  await fed.ready();
});

afterAll(async () => {
  await fed?.close();
});

const call = (name: string, args: unknown, profile: "general" | "verification" = "general") => {
  const t = fed.toolsFor(profile).find((x) => x.name === name);
  if (!t) throw new Error(`${name} not visible`);
  return t.call(args, toolContext());
};

describe("server-everything as a downstream", () => {
  it("shows only allowlisted tools, per profile", () => {
    expect(
      fed
        .toolsFor("general")
        .map((t) => t.name)
        .sort(),
    ).toEqual([
      "everything__echo",
      "everything__get-structured-content",
      "everything__get-sum",
      "everything__get-tiny-image",
    ]);
    expect(fed.toolsFor("verification").map((t) => t.name)).toEqual(["everything_ro__get-sum"]);
    const st = fed.status();
    const ev = st.servers.find((s) => s.name === "everything")!;
    expect(ev.connected).toBe(true);
    expect(ev.tool_count).toBeGreaterThan(4);
    expect(ev.missing_allowed_tools).toEqual(["not-a-real-tool"]);
    expect(st.tools_per_profile).toEqual({ general: 4, verification: 1 });
  });

  it("calls tools and validates arguments against its schemas", async () => {
    expect(await call("everything__echo", { message: "hi" })).toMatchObject({
      isError: false,
      content: "Echo: hi",
    });
    expect(await call("everything_ro__get-sum", { a: 2, b: 3 }, "verification")).toMatchObject({
      isError: false,
      content: "The sum of 2 and 3 is 5.",
    });
    const bad = await call("everything__get-sum", { a: 2 });
    expect(bad).toMatchObject({ isError: true, audit: { error_code: "downstream_schema_validation_error" } });
    expect(bad.content).toMatch(/missing required field b/);
    const badEnum = await call("everything__get-structured-content", { location: "Paris" });
    expect(badEnum.content).toMatch(/location must be equal to one of the allowed values/);
  });

  it("reports images by type and size instead of dumping base64", async () => {
    const out = await call("everything__get-tiny-image", {});
    expect(out.isError).toBe(false);
    expect(out.content).toMatch(/\[image content: image\/png, \d+ bytes, not shown\]/);
    expect(out.content.length).toBeLessThan(500);
  });

  it("returns structured content", async () => {
    const out = await call("everything__get-structured-content", { location: "Chicago" });
    expect(out.isError).toBe(false);
    expect(out.content).toMatch(/temperature/);
  });
});
