// claude-agent-mcp doctor (placeholder until the operator tooling lands).
export async function runDoctor(_opts: { envFile?: string; live: boolean }): Promise<number> {
  process.stderr.write("doctor is not implemented yet\n");
  return 1;
}
