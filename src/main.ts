// Server startup and shutdown. Order: logger -> state dirs -> DB (migrate, recover) -> backend ->
// service -> MCP transport. Slow work (federation discovery, `claude --version`) runs in the
// background and never holds up the MCP handshake.
import { mkdirSync } from "node:fs";
import type { AgentTool, Backend } from "./backends/backend.js";
import { type Config, formatProblems } from "./config.js";
import type { Federation } from "./federation/federation.js";
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
    const { createClaudeCodeBackend } = await import("./backends/claude-code/claude-code-backend.js");
    return createClaudeCodeBackend(config, logger);
  }
  const { createApiBackend } = await import("./backends/api/api-backend.js");
  return createApiBackend(config, logger);
}

const FEDERATION_READY_TIMEOUT_MS = 15_000;

const WORKSPACE_TOOL_CACHE_MAX = 64;

/** Tools per run: workspace tools (api backend) plus the federation tools the profile may see. */
function toolProvider(config: Config, federation: Federation | null): ToolProvider {
  // Workspace tools are stateless for a given directory, mode and allowed dirs (the allowed dirs
  // come from the config), so one set per (directory, mode) is built once and reused: building
  // them converts five zod schemas to JSON Schema, a measurable part of a run's overhead.
  const workspaceTools = new Map<string, AgentTool[]>();
  return async ({ profile, workingDirectory, allowedDirs }) => {
    const tools: AgentTool[] = [];
    if (config.workspaceTools && config.executionBackend === "api") {
      const key = `${profile.readOnly ? "ro" : "rw"}\0${workingDirectory}\0${allowedDirs.join("\0")}`;
      let set = workspaceTools.get(key);
      if (!set) {
        const { createWorkspaceTools } = await import("./backends/api/workspace-tools.js");
        set = createWorkspaceTools({ workingDirectory, allowedDirs, readOnly: profile.readOnly });
        if (workspaceTools.size >= WORKSPACE_TOOL_CACHE_MAX) workspaceTools.clear();
        workspaceTools.set(key, set);
      }
      tools.push(...set);
    }
    if (federation?.enabled) {
      await federation.ready({ timeoutMs: FEDERATION_READY_TIMEOUT_MS });
      tools.push(...federation.toolsFor(profile.name));
    }
    return tools;
  };
}

/** Builds everything but the transport; used by the CLI and by the HTTP transport. */
export async function createRuntime(config: Config): Promise<Runtime> {
  const logger = createLogger({
    level: config.logLevel,
    file: config.logFile,
    secrets: [config.anthropicApiKey, config.httpAuthToken ?? ""],
  });
  let federation: Federation | null = null;
  if (config.federationEnabled) {
    const { setupFederation } = await import("./federation/index.js");
    const fed = setupFederation(config, logger);
    if (!fed.ok) {
      process.stderr.write(formatProblems(fed.problems));
      process.exit(1);
    }
    federation = fed.federation;
  }
  let store: SessionStore;
  try {
    mkdirSync(config.stateDir, { recursive: true });
    mkdirSync(config.artifactDir, { recursive: true });
    store = openStore(config.dbPath);
  } catch (err) {
    process.stderr.write(
      formatProblems([`CLAUDE_AGENT_MCP_DB_PATH: cannot open ${config.dbPath}: ${(err as Error).message}`]),
    );
    process.exit(1);
  }
  const backend = await createBackend(config, logger);
  const service = new SessionService({
    config,
    store,
    backend,
    logger,
    tools: toolProvider(config, federation),
  });
  service.recover();
  const recoveryTimer = setInterval(() => service.recover(), RECOVERY_INTERVAL_MS);
  recoveryTimer.unref();
  const status: StatusSource = {
    config,
    backend,
    store,
    startedAt: Date.now(),
    activeRuns: () => service.activeRunCount,
    ...(federation ? { federation: () => federation.status() } : {}),
  };
  // Discovery runs in the background; the MCP handshake never waits for it.
  federation?.start();
  let closed: Promise<void> | null = null;
  const shutdown = (reason: string) => {
    closed ??= (async () => {
      logger.info({ reason }, "shutting down");
      clearInterval(recoveryTimer);
      await service.shutdown();
      await backend.close?.();
      await federation?.close();
      store.close();
      logger.info("shut down cleanly");
    })();
    return closed;
  };
  return { config, logger, store, backend, service, status, shutdown };
}

const WARM_UP_DELAY_MS = 150;

async function warmUp(rt: Runtime): Promise<void> {
  await rt.backend.warm?.();
  if (rt.config.executionBackend === "api" && rt.config.workspaceTools) {
    const { createWorkspaceTools } = await import("./backends/api/workspace-tools.js");
    createWorkspaceTools({
      workingDirectory: process.cwd(),
      allowedDirs: rt.config.allowedDirs,
      readOnly: false,
    });
  }
}

export async function startServer(config: Config): Promise<void> {
  const rt = await createRuntime(config);
  rt.logger.info(
    { version: VERSION, backend: config.executionBackend, transport: config.transport, model: config.model },
    `claude-agent-mcp v${VERSION} starting`,
  );
  // The HTTP transport replaces this with its own, which closes the listener around it.
  let shutdown = rt.shutdown;
  const exit = (reason: string) => {
    // A second signal while draining forces the exit.
    const hard = setTimeout(() => process.exit(0), 5000);
    hard.unref();
    shutdown(reason).finally(() => process.exit(0));
  };
  process.on("SIGINT", () => exit("SIGINT"));
  process.on("SIGTERM", () => exit("SIGTERM"));

  if (config.transport === "streamable-http") {
    const { serveHttp } = await import("./server/transports/http.js");
    shutdown = await serveHttp(rt, () => exit("http closed"));
  } else {
    const server = createServer({ service: rt.service, status: rt.status, logger: rt.logger });
    await serveStdio(server, () => exit("stdin closed"));
  }
  // What the first run needs (the Anthropic SDK, the workspace tools) is not loaded before the
  // handshake; it is loaded in the background shortly after, so the first run is not slower.
  const warm = setTimeout(() => {
    warmUp(rt).catch((err) => rt.logger.debug({ err }, "warm-up failed; the first run loads it"));
  }, WARM_UP_DELAY_MS);
  warm.unref();
  rt.logger.info(
    {
      backend: config.executionBackend,
      transport: config.transport,
      preset: config.operatorPreset ?? "none",
    },
    `claude-agent-mcp v${VERSION} ready`,
  );
}
