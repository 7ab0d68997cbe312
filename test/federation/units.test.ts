import { describe, expect, it } from "vitest";
import {
  backoffMs,
  childEnvironment,
  compileArgumentValidator,
  federationAuditEvents,
  isFederationAudit,
  renderToolResult,
} from "../../src/federation/index.js";
import { base64Bytes, capText } from "../../src/federation/results.js";

describe("renderToolResult", () => {
  it("renders every content block kind without dumping binary data", () => {
    const r = renderToolResult(
      {
        content: [
          { type: "text", text: "hello" },
          { type: "audio", data: "AAAA", mimeType: "audio/wav" },
          { type: "resource", resource: { uri: "file:///a.txt", mimeType: "text/plain", text: "inside" } },
          { type: "resource", resource: { uri: "file:///b.bin", blob: "AAAAAA==" } },
          { type: "resource_link", uri: "file:///c", name: "c" },
          { type: "mystery", payload: "z".repeat(1000) },
        ],
      },
      10_000,
    );
    expect(r.text).toBe(
      [
        "hello",
        "[audio content: audio/wav, 3 bytes, not shown]",
        "[resource file:///a.txt (text/plain)]\ninside",
        "[binary resource file:///b.bin: unknown type, 4 bytes, not shown]",
        "[resource link c file:///c]",
        "[mystery content: 1031 characters, not shown]",
      ].join("\n"),
    );
    expect(r.isError).toBe(false);
  });

  it("uses structuredContent when there is no text, and the legacy toolResult shape", () => {
    expect(renderToolResult({ content: [], structuredContent: { a: 1 } }, 100).text).toBe('{"a":1}');
    expect(renderToolResult({ toolResult: { ok: true } }, 100).text).toBe('{"ok":true}');
    expect(renderToolResult({ content: [{ type: "text", text: "t" }], isError: true }, 100)).toMatchObject({
      text: "t",
      isError: true,
    });
    expect(renderToolResult({}, 100).text).toBe("");
  });

  it("caps text without splitting a surrogate pair", () => {
    const s = `${"a".repeat(9)}😀tail`;
    const c = capText(s, 10);
    expect(c.truncated).toBe(true);
    expect(c.text.startsWith("a".repeat(9))).toBe(true);
    expect(c.text).not.toContain("\ud83d\n");
    expect(capText("short", 10)).toEqual({ text: "short", truncated: false });
    expect(base64Bytes("iVBORw0KGgo=")).toBe(8);
  });
});

describe("compileArgumentValidator", () => {
  it("validates full JSON schema, naming fields but never values", () => {
    const v = compileArgumentValidator({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: {
        path: { type: "string", minLength: 1 },
        nested: { type: "object", properties: { n: { type: "integer" } } },
      },
      required: ["path"],
      additionalProperties: false,
    });
    expect(v({ path: "x" })).toBeNull();
    expect(v({})).toMatch(/missing required field path/);
    expect(v({ path: "x", nested: { n: "secret-ish" } })).toMatch(/nested\.n must be integer/);
    expect(v({ path: "x", extra: "hidden" })).toMatch(/must NOT have additional properties/);
    expect(v({ path: 5, nested: { n: "secret-ish" } })).not.toContain("secret-ish");
  });

  it("falls back to required + top-level types when the schema cannot be compiled", () => {
    const v = compileArgumentValidator({
      type: "object",
      properties: { a: { type: "number" }, b: { $ref: "#/definitions/missing" } },
      required: ["a"],
    });
    expect(v({ a: 1 })).toBeNull();
    expect(v({})).toMatch(/missing required field a/);
    expect(v({ a: "x" })).toMatch(/a must be number/);
    expect(compileArgumentValidator(undefined)({ anything: 1 })).toBeNull();
  });
});

describe("connection helpers", () => {
  it("backs off 0, 0, 1 s, 2 s ... capped at 30 s", () => {
    expect([0, 1, 2, 3, 4, 10].map(backoffMs)).toEqual([0, 0, 1000, 2000, 4000, 30_000]);
  });

  it("builds the child env from a whitelist plus configured values", () => {
    process.env.FED_UNIT_SECRET = "x";
    try {
      const env = childEnvironment({ MINE: "1", PATH: "/custom" });
      expect(env.MINE).toBe("1");
      expect(env.PATH).toBe("/custom");
      expect(env).not.toHaveProperty("FED_UNIT_SECRET");
    } finally {
      delete process.env.FED_UNIT_SECRET;
    }
  });
});

describe("federationAuditEvents", () => {
  it("maps an audit to upstream's two events", () => {
    const audit = {
      source: "federation" as const,
      normalized_name: "s__t",
      server: "s",
      downstream_name: "t",
      input_keys: ["a", "b"],
      success: false,
      error_message: "boom",
      error_code: "downstream_invocation_error" as const,
      invoked: true,
      duration_ms: 3,
      truncated: false,
    };
    expect(isFederationAudit(audit)).toBe(true);
    expect(isFederationAudit({ source: "workspace" })).toBe(false);
    expect(federationAuditEvents(audit)).toEqual([
      {
        type: "downstream_tool_invocation",
        payload: { normalized_name: "s__t", server: "s", downstream_name: "t", input_keys: ["a", "b"] },
      },
      {
        type: "downstream_tool_result",
        payload: {
          normalized_name: "s__t",
          success: false,
          error_message: "boom",
          error_code: "downstream_invocation_error",
          duration_ms: 3,
          truncated: false,
        },
      },
    ]);
  });
});
