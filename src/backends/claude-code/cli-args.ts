// argv for `claude -p`: output format, model, turn cap, the profile's permission mode and tool
// lists, extra directories, the system prompt, and --resume. The prompt itself is never here.
import type { ClaudeCodeConfig } from "../../config.js";

/** Tools a read-only profile may use: they look, never touch. */
export const READ_ONLY_TOOLS = ["Read", "Grep", "Glob", "LS"];
/** Tools that change files or run commands: always denied to read-only profiles. */
export const MUTATING_TOOLS = ["Bash", "Edit", "MultiEdit", "Write", "NotebookEdit"];

export interface ProfileFlags {
  permissionMode: string;
  allowedTools: string[];
  disallowedTools: string[];
}

/**
 * Per-profile defaults, replaced by CLAUDE_AGENT_MCP_CLAUDE_CODE_ALLOWED_TOOLS / _DISALLOWED_TOOLS
 * when set. The read-only floor stays: a list meant for the general profile cannot make
 * verification writable (agent_verify_task is advertised as read-only).
 */
/** Every built-in Claude Code tool: denied as a whole when a run has allow_tools: false. */
export const ALL_BUILTIN_TOOLS = [
  ...READ_ONLY_TOOLS,
  ...MUTATING_TOOLS,
  "WebFetch",
  "WebSearch",
  "Task",
  "TodoWrite",
];

export function profileFlags(readOnly: boolean, cc: ClaudeCodeConfig, toolsDisabled = false): ProfileFlags {
  if (toolsDisabled)
    return { permissionMode: "default", allowedTools: [], disallowedTools: ALL_BUILTIN_TOOLS };
  if (!readOnly) {
    return {
      // An explicit mode, so an operator's settings.json (e.g. bypassPermissions) does not apply.
      permissionMode: "acceptEdits",
      allowedTools: cc.allowedTools ?? [],
      disallowedTools: cc.disallowedTools ?? [],
    };
  }
  const allowed = (cc.allowedTools ?? READ_ONLY_TOOLS).filter((t) => !MUTATING_TOOLS.includes(toolBase(t)));
  const disallowed = [...(cc.disallowedTools ?? [])];
  for (const t of MUTATING_TOOLS) if (!disallowed.includes(t)) disallowed.push(t);
  return { permissionMode: "default", allowedTools: allowed, disallowedTools: disallowed };
}

/** `Bash(git log:*)` → `Bash`. */
function toolBase(rule: string): string {
  const i = rule.indexOf("(");
  return (i >= 0 ? rule.slice(0, i) : rule).trim();
}

export interface ArgsInput {
  model: string;
  maxTurns: number;
  profile: ProfileFlags;
  addDirs: string[];
  /** null when the system prompt travels inline in the stdin prompt. */
  systemPrompt: string | null;
  resume: string | null;
}

export function buildArgs(a: ArgsInput): string[] {
  const args = ["-p", "--output-format", "stream-json", "--verbose"];
  if (a.model) args.push("--model", a.model);
  args.push("--max-turns", String(Math.max(1, a.maxTurns)));
  args.push("--permission-mode", a.profile.permissionMode);
  if (a.profile.allowedTools.length) args.push("--allowedTools", a.profile.allowedTools.join(","));
  if (a.profile.disallowedTools.length) args.push("--disallowedTools", a.profile.disallowedTools.join(","));
  for (const d of a.addDirs) args.push("--add-dir", d);
  if (a.systemPrompt?.trim()) args.push("--append-system-prompt", a.systemPrompt);
  if (a.resume) args.push("--resume", a.resume);
  return args;
}
