// Every env var in README.md's configuration table exists in src/config.ts ENV_VARS, and every
// ENV_VARS entry is documented there (legacy CLAUDE_AGENT_* names may appear as rows too).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ENV_VARS, LEGACY_ENV_VARS } from "../../src/config.js";
import { REPO_ROOT } from "../helpers/mcp-harness.js";

const README = join(REPO_ROOT, "README.md");

/** Lines of every section whose heading mentions "configuration" (with its subsections). */
function configurationSections(text: string): string[] {
  const lines = text.split(/\r?\n/);
  const out: string[] = [];
  let level = 0; // > 0 while inside a configuration section of that heading level
  let fence = false;
  for (const line of lines) {
    if (/^\s*(```|~~~)/.test(line)) fence = !fence;
    const h = fence ? null : /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) {
      if (level && h[1].length <= level) level = 0;
      if (!level && /configuration/i.test(h[2])) level = h[1].length;
    }
    if (level) out.push(line);
  }
  return out;
}

/** Variable names in the first cell of table rows like "| `VAR` | default | meaning |". */
function tableVars(lines: string[]): string[] {
  const vars = new Set<string>();
  for (const line of lines) {
    const m = /^\s*\|([^|]*)\|/.exec(line);
    if (!m) continue;
    for (const [, name] of m[1].matchAll(/`([A-Z][A-Z0-9_]*)`/g)) vars.add(name);
  }
  return [...vars];
}

describe("README configuration table vs src/config.ts ENV_VARS", () => {
  it("README.md exists", () => {
    expect(
      existsSync(README),
      `README.md is missing at ${README}; the configuration table cannot be checked`,
    ).toBe(true);
  });

  it("lists exactly the variables the config code reads", () => {
    if (!existsSync(README)) throw new Error(`README.md is missing at ${README}`);
    const sections = configurationSections(readFileSync(README, "utf8"));
    expect(sections.length, "README.md has no section whose heading mentions Configuration").toBeGreaterThan(
      0,
    );
    const documented = tableVars(sections);
    expect(
      documented.length,
      "no `| `VAR` | ... |` rows found in the README's configuration section",
    ).toBeGreaterThan(0);
    const known = new Set<string>([...ENV_VARS, ...Object.values(LEGACY_ENV_VARS)]);
    const undocumented = ENV_VARS.filter((v) => !documented.includes(v));
    const unknown = documented.filter((v) => !known.has(v));
    expect(undocumented, "variables in ENV_VARS missing from the README configuration table").toEqual([]);
    expect(unknown, "variables in the README configuration table that src/config.ts does not read").toEqual(
      [],
    );
  });

  it("every ENV_VARS entry is actually read by loadConfig", () => {
    const src = readFileSync(join(REPO_ROOT, "src", "config.ts"), "utf8");
    const body = src.slice(src.indexOf("export function loadConfig"));
    const unread = ENV_VARS.filter((v) => {
      if (body.includes(`"${v}"`) || body.includes(`.${v}`)) return false;
      // claude_code settings are read through a prefix helper: ccInt("MAX_CONTINUATION_TURNS", ...)
      const suffix = v.replace(/^CLAUDE_AGENT_MCP_CLAUDE_CODE_/, "");
      return !(v.startsWith("CLAUDE_AGENT_MCP_CLAUDE_CODE_") && body.includes(`"${suffix}"`));
    });
    expect(unread).toEqual([]);
  });
});
