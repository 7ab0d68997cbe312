// Text prompts for `claude -p`: upstream's bracketed sections joined by a rule of 60 box-drawing
// characters, the [Available Tools] block of limited tool forwarding, and the screening that
// decides which federation tools can be described as text at all.
import type { AgentTool } from "../backend.js";

export const SECTION_SEPARATOR = `\n${"─".repeat(60)}\n`;
export const CONTENT_MAX_CHARS = 2000;
export const TOOL_MAX_TOP_LEVEL_PROPS = 5;
const UNSUPPORTED_SCHEMA_KEYS = ["$ref", "allOf", "anyOf", "oneOf", "not"];

/** A section is its header line and a body; empty sections are left out. */
export function section(header: string, body: string | null | undefined): string {
  const b = (body ?? "").trim();
  return b ? `${header}\n${b}` : "";
}

export function joinSections(sections: string[]): string {
  return sections.filter((s) => s.trim()).join(SECTION_SEPARATOR);
}

export function capText(text: string, max = CONTENT_MAX_CHARS): string {
  const t = text.trim();
  return t.length > max ? `${t.slice(0, max)} [truncated]` : t;
}

export type ToolCompatibility =
  | "compatible"
  | "missing_description"
  | "schema_unsupported"
  | "complex_schema";

export interface ScreenedOut {
  tool_name: string;
  level: ToolCompatibility;
  reason: string;
}

/** The first unsupported keyword used as a schema *key* anywhere (upstream searched the text). */
function unsupportedKey(schema: unknown): string | null {
  if (Array.isArray(schema)) {
    for (const s of schema) {
      const k = unsupportedKey(s);
      if (k) return k;
    }
    return null;
  }
  if (typeof schema !== "object" || schema === null) return null;
  for (const [key, value] of Object.entries(schema)) {
    // "properties" maps names to schemas: a property called "not" is fine.
    if (key !== "properties" && UNSUPPORTED_SCHEMA_KEYS.includes(key)) return key;
    if (key === "properties" && typeof value === "object" && value !== null) {
      for (const sub of Object.values(value)) {
        const k = unsupportedKey(sub);
        if (k) return k;
      }
    } else {
      const k = unsupportedKey(value);
      if (k) return k;
    }
  }
  return null;
}

export function screenTool(
  tool: Pick<AgentTool, "name" | "description" | "inputSchema">,
): ScreenedOut | null {
  const name = tool.name || "(unnamed)";
  if (!tool.description?.trim()) {
    return { tool_name: name, level: "missing_description", reason: "tool has no description" };
  }
  const bad = unsupportedKey(tool.inputSchema);
  if (bad) {
    return {
      tool_name: name,
      level: "schema_unsupported",
      reason: `input schema uses '${bad}', which cannot be described as text; use the api backend for this tool`,
    };
  }
  const props = tool.inputSchema?.properties;
  const count = typeof props === "object" && props !== null ? Object.keys(props).length : 0;
  if (count > TOOL_MAX_TOP_LEVEL_PROPS) {
    return {
      tool_name: name,
      level: "complex_schema",
      reason: `input schema has ${count} top-level properties (max ${TOOL_MAX_TOP_LEVEL_PROPS})`,
    };
  }
  return null;
}

export function screenTools<T extends Pick<AgentTool, "name" | "description" | "inputSchema">>(
  tools: T[],
): { compatible: T[]; dropped: ScreenedOut[] } {
  const compatible: T[] = [];
  const dropped: ScreenedOut[] = [];
  for (const t of tools) {
    const s = screenTool(t);
    if (s) dropped.push(s);
    else compatible.push(t);
  }
  return { compatible, dropped };
}

/** "Tool: / Description: / Parameters:" lines for one tool. */
export function describeTool(tool: Pick<AgentTool, "name" | "description" | "inputSchema">): string[] {
  const lines = [`Tool: ${tool.name}`, `Description: ${tool.description?.trim() || "(no description)"}`];
  const props = tool.inputSchema?.properties;
  const required = Array.isArray(tool.inputSchema?.required) ? (tool.inputSchema.required as unknown[]) : [];
  if (typeof props === "object" && props !== null && Object.keys(props).length) {
    lines.push("Parameters:");
    for (const [param, spec] of Object.entries(props as Record<string, Record<string, unknown>>)) {
      const type = typeof spec?.type === "string" ? spec.type : "any";
      const req = required.includes(param) ? "required" : "optional";
      const desc =
        typeof spec?.description === "string" && spec.description ? spec.description : "(no description)";
      lines.push(`  - ${param} (${type}, ${req}): ${desc}`);
    }
  }
  return lines;
}

/** Upstream's v0.6 block: the tools are described for context only, not invocable. */
export function availableToolsBlock(
  tools: Pick<AgentTool, "name" | "description" | "inputSchema">[],
): string {
  if (!tools.length) return "";
  const lines = [
    "[Available Tools]",
    "The following tools are described for context only; they represent capabilities of this session.",
    "They are not directly invocable in this execution mode.",
  ];
  for (const t of tools) lines.push("", ...describeTool(t));
  return lines.join("\n");
}

/**
 * The stdin prompt of a first request. Plain task text when there is nothing to add (the system
 * prompt travels in --append-system-prompt); otherwise upstream's structured sections.
 */
export function initialPrompt(opts: {
  task: string;
  inlineSystemPrompt: string | null;
  sessionSummary: string | null;
  toolsBlock: string;
}): string {
  if (!opts.inlineSystemPrompt?.trim() && !opts.sessionSummary?.trim() && !opts.toolsBlock) return opts.task;
  return joinSections([
    section("[System]", opts.inlineSystemPrompt),
    section("[Session Context]", opts.sessionSummary),
    opts.toolsBlock,
    section("[Current Request]", opts.task),
    section(
      "[Instructions]",
      "Respond to the current request. Treat any session context and tool descriptions above as background.",
    ),
  ]);
}
