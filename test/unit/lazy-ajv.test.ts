// The build swaps the MCP SDK's Ajv provider for this lazy stand-in; it must validate the same way.
import { describe, expect, it } from "vitest";
import { AjvJsonSchemaValidator } from "../../src/server/lazy-ajv.js";

describe("lazy Ajv provider", () => {
  it("loads the real provider on first use and validates", () => {
    const v = new AjvJsonSchemaValidator().getValidator<{ a: number }>({
      type: "object",
      properties: { a: { type: "number" } },
      required: ["a"],
    });
    expect(v({ a: 1 }).valid).toBe(true);
    const bad = v({ a: "x" });
    expect(bad.valid).toBe(false);
    expect(bad.errorMessage).toMatch(/a/);
  });
});
