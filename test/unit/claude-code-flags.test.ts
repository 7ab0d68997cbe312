// Profile flags for the claude_code backend, including allow_tools: false.
import { describe, expect, it } from "vitest";
import { ALL_BUILTIN_TOOLS, MUTATING_TOOLS, profileFlags } from "../../src/backends/claude-code/cli-args.js";
import { loadConfig } from "../../src/config.js";

const r = loadConfig({ env: { ANTHROPIC_API_KEY: "k-1234", PATH: "" }, cwd: process.cwd() });
if (!r.ok) throw new Error(r.problems.join("\n"));
const cc = r.config.claudeCode;

describe("claude_code profile flags", () => {
  it("verification denies every mutating tool; general accepts edits", () => {
    const v = profileFlags(true, cc);
    for (const t of MUTATING_TOOLS) expect(v.disallowedTools).toContain(t);
    expect(v.allowedTools.some((t) => MUTATING_TOOLS.includes(t))).toBe(false);
    expect(profileFlags(false, cc).permissionMode).toBe("acceptEdits");
  });

  it("allow_tools: false denies every built-in tool, whatever the profile", () => {
    for (const readOnly of [true, false]) {
      const f = profileFlags(readOnly, cc, true);
      expect(f.allowedTools).toEqual([]);
      expect(f.disallowedTools).toEqual(ALL_BUILTIN_TOOLS);
      expect(f.permissionMode).toBe("default");
    }
  });
});
