// claude-agent-mcp sessions list|show (placeholder until the operator tooling lands).
import type { Config } from "./config.js";

export function listCommand(_config: Config, _opts: { status?: string; limit: string; json?: boolean }): number {
  process.stderr.write("sessions list is not implemented yet\n");
  return 1;
}

export function showCommand(_config: Config, _id: string, _opts: { events?: boolean; json?: boolean }): number {
  process.stderr.write("sessions show is not implemented yet\n");
  return 1;
}
