// Server startup and shutdown. Order: logger -> state dirs -> DB (migrate, recover) -> backend ->
// service -> MCP transport. Slow work (federation discovery, `claude --version`) runs in the
// background and never holds up the MCP handshake.
import { mkdirSync } from "node:fs";
import type { Backend } from "./backends/backend.js";
import { type Config, formatProblems } from "./config.js";
import { createLogger, type Logger } from "./log.js";
import { createServer } from "./server/server.js";
import type { StatusSource } from "./server/status.js";
import { serveStdio } from "./server/transports/stdio.js";
import { SessionService, type ToolProvider } from "./sessions/session-service.js";
import { openStore, type SessionStore } from "./sessions/store.js";
import { VERSION } from "./version.js";

const RECOVERY_INTERVAL_MS = 60_000;

export interface Runtime {
  config: Config;
  logger: Logger;
  store: SessionStore;
  backend: Backend;
  service: SessionService;
  status: StatusSource;
  shutdown: (reason: string) => Promise<void>;
}

async function createBackend(config: Config, logger: Logger): Promise<Backend> {
  if (config.executionBackend === "claude_code") {
    throw new Error("claude_code backend is being wired");
  }
  const { createApiBackend } = await import("./backends/api/api-backend.js");
  return createApiBackend(config, logger);
}

function toolProvider(config: Config): ToolProvider {
  return async ({ profile, workingDirectory, allowedDirs }) => {
    if (!config.workspaceTools || config.executionBackend !== "api") return [];
    const { createWorkspaceTools } = await import("./backends/api/workspace-tools.js");
    return createWorkspaceTools({ workingDirectory, allowedDirs, readOnly: profile.readOnly });
  };
}

/** Builds everything but the transport; used by the CLI and by the HTTP transport. */
export async function createRuntime(config: Config): Promise<Runtime> {
  const logger = createLogger({
    level: config.logLevel,
    file: config.logFile,
    secrets: [config.anthropicApiKey, config.httpAuthToken ?? ""],
  });
  let store: SessionStore;
  try {
    mkdirSync(config.stateDir, { recursive: true });
    mkdirSync(config.artifactDir, { recursive: true });
    store = openStore(config.dbPath);
  } catch (err) {
    process.stderr.write(formatProblems([`CLAUDE_AGENT_MCP_DB_PATH: cannot open ${config.dbPath}: ${(err as Error).message}`]));
    process.exit(1);
  }
  const backend = await createBackend(config, logger);
  const service = new SessionService({ config, store, backend, logger, tools: toolProvider(config) });
  service.recover();
  const recoveryTimer = setInterval(() => service.recover(), RECOVERY_INTERVAL_MS);
  recoveryTimer.unref();
  const status: StatusSource = {
    config,
    backend,
    store,
    startedAt: Date.now(),
    activeRuns: () => service.activeRunCount,
  };
  let closed: Promise<void> | null = null;
  const shutdown = (reason: string) => {
    closed ??= (async () => {
      logger.info({ reason }, "shutting down");
      clearInterval(recoveryTimer);
      await service.shutdown();
      await backend.close?.();
      store.close();
      logger.info("shut down cleanly");
    })();
    return closed;
  };
  return { config, logger, store, backend, service, status, shutdown };
}

export async function startServer(config: Config): Promise<void> {
  const rt = await createRuntime(config);
  rt.logger.info(
    { version: VERSION, backend: config.executionBackend, transport: config.transport, model: config.model },
    `claude-agent-mcp v${VERSION} starting`,
  );
  const exit = (reason: string) => {
    // A second signal while draining forces the exit.
    const hard = setTimeout(() => process.exit(0), 5000);
    hard.unref();
    rt.shutdown(reason).finally(() => process.exit(0));
  };
  process.on("SIGINT", () => exit("SIGINT"));
  process.on("SIGTERM", () => exit("SIGTERM"));

  if (config.transport === "streamable-http") {
    const { serveHttp } = await import("./server/transports/http.js");
    await serveHttp(rt, () => exit("http closed"));
  } else {
    const server = createServer({ service: rt.service, status: rt.status, logger: rt.logger });
    await serveStdio(server, () => exit("stdin closed"));
  }
  rt.logger.info(
    { backend: config.executionBackend, transport: config.transport, preset: config.operatorPreset ?? "none" },
    `claude-agent-mcp v${VERSION} ready`,
  );
}
