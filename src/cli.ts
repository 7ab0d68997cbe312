// The command line: `serve` (default), `doctor`, `sessions`. Configuration problems end in one
// clean list on stderr and exit 1, before anything is created on disk.
import { Command, Option } from "commander";
import { type CliFlags, type Config, formatProblems, loadConfig } from "./config.js";
import { VERSION } from "./version.js";

function fail(problems: string[]): never {
  process.stderr.write(formatProblems(problems));
  process.exit(1);
}

function configOrExit(flags: CliFlags): Config {
  const r = loadConfig({ flags });
  if (!r.ok) fail(r.problems);
  return r.config;
}

const program = new Command();
program
  .name("claude-agent-mcp")
  .description("MCP server that hands work to Claude in durable, policy-bounded sessions")
  .version(`claude-agent-mcp ${VERSION}`, "-V, --version", "print the version and exit")
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  .showHelpAfterError();

const serveFlags = (cmd: Command) =>
  cmd
    .addOption(
      new Option("--transport <transport>", "stdio or streamable-http").choices(["stdio", "streamable-http"]),
    )
    .option("--host <host>", "HTTP bind host (streamable-http)")
    .option("--port <port>", "HTTP port (streamable-http)")
    .option("--env-file <path>", "read this .env file instead of ./.env");

serveFlags(program.command("serve", { isDefault: true }).description("run the MCP server (default)")).action(
  async (opts: CliFlags) => {
    const config = configOrExit(opts);
    const { startServer } = await import("./main.js");
    await startServer(config);
  },
);

program
  .command("doctor")
  .description("check configuration, state, backend and federation; exit 1 if anything fails")
  .option("--live", "also make one small model call")
  .option("--env-file <path>", "read this .env file instead of ./.env")
  .action(async (opts: { live?: boolean; envFile?: string }) => {
    const { runDoctor } = await import("./cli/doctor.js");
    process.exitCode = await runDoctor({ envFile: opts.envFile, live: Boolean(opts.live) });
  });

const sessions = program.command("sessions").description("inspect the session database directly");
sessions
  .command("list")
  .description("list recent sessions")
  .option("--status <status>", "filter by status")
  .option("--limit <n>", "how many", "20")
  .option("--json", "print JSON")
  .option("--env-file <path>", "read this .env file instead of ./.env")
  .action(async (opts: { status?: string; limit: string; json?: boolean; envFile?: string }) => {
    const { listCommand } = await import("./cli/sessions.js");
    process.exitCode = listCommand(configForReading(opts.envFile), opts);
  });
sessions
  .command("show <session_id>")
  .description("show one session")
  .option("--events", "include the event log")
  .option("--json", "print JSON")
  .option("--env-file <path>", "read this .env file instead of ./.env")
  .action(async (id: string, opts: { events?: boolean; json?: boolean; envFile?: string }) => {
    const { showCommand } = await import("./cli/sessions.js");
    process.exitCode = showCommand(configForReading(opts.envFile), id, opts);
  });

/** Reading the DB needs only the paths; backend problems (no API key) must not block it. */
function configForReading(envFile?: string): Config {
  const r = loadConfig({ flags: { envFile } });
  if (r.ok) return r.config;
  const blocking = r.problems.filter((p) => /STATE_DIR|DB_PATH|env-file/.test(p));
  if (blocking.length) fail(blocking);
  const relaxed = loadConfig({
    flags: { envFile },
    env: {
      ...process.env,
      CLAUDE_AGENT_MCP_EXECUTION_BACKEND: "api",
      ANTHROPIC_API_KEY: "unused-for-reading",
    },
  });
  if (!relaxed.ok) fail(relaxed.problems);
  return relaxed.config;
}

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`claude-agent-mcp: ${err.message}\n`);
  process.exit(1);
});
