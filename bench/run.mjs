#!/usr/bin/env node
// `npm run bench` (after `npm run build`): cold start, memory, per-call overhead, scale and
// concurrency of the built server (dist/cli.js) against a local fake Messages API. Prints a table
// and writes bench/results.json. Every figure is a median over repeated runs, with min and max.
//
//   node bench/run.mjs            full sizes (several minutes on a 2-core machine)
//   node bench/run.mjs --quick    tiny sizes (the smoke test; seconds)
//   node bench/run.mjs --only=cold,calls,scale,concurrency    a subset
//   node bench/run.mjs --out=/tmp/r.json                      write the results elsewhere
//
// Benchmarks are not tests: they never fail on a missed target (exit 0), they report it.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { startFakeApi } from "./fake-api.mjs";
import {
  CLI_PATH,
  freePort,
  killPid,
  medianOf,
  now,
  REPO_ROOT,
  r3,
  rssMiB,
  serverEnv,
  sleep,
  spawnCli,
  startStdio,
  stats,
  stopChild,
  tempDir,
} from "./lib.mjs";

const argv = process.argv.slice(2);
const QUICK = argv.includes("--quick");
const only = (argv.find((a) => a.startsWith("--only=")) ?? "").slice(7).split(",").filter(Boolean);
const want = (name) => !only.length || only.includes(name);
const outArg = argv.find((a) => a.startsWith("--out="));
const RESULTS_PATH = outArg ? resolve(outArg.slice(6)) : join(REPO_ROOT, "bench", "results.json");

const SIZES = QUICK
  ? {
      coldRuns: 3,
      firstRunStarts: 2,
      steadyRuns: 10,
      overheadRounds: 3,
      overheadPerRound: 10,
      totalRuns: 40,
      readCalls: 20,
      scale: [200, 1000],
      scaleCalls: 10,
      scaleStarts: 2,
      concurrent: 5,
      latencyMs: 100,
      concRounds: 1,
      httpClients: 5,
    }
  : {
      coldRuns: 15,
      firstRunStarts: 7,
      steadyRuns: 40,
      overheadRounds: 9,
      overheadPerRound: 40,
      totalRuns: 1000,
      readCalls: 300,
      scale: [10_000, 100_000],
      scaleCalls: 200,
      scaleStarts: 9,
      concurrent: 20,
      latencyMs: 500,
      concRounds: 3,
      httpClients: 50,
    };

const SIX = [
  "agent_run_task",
  "agent_continue_session",
  "agent_get_session",
  "agent_list_sessions",
  "agent_verify_task",
  "agent_get_runtime_status",
];

const results = {
  meta: {
    date: new Date().toISOString(),
    quick: QUICK,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: (await import("node:os")).cpus().length,
    loadavg: (await import("node:os")).loadavg().map((x) => r3(x)),
    sizes: SIZES,
  },
  cold_start: null,
  memory: null,
  first_run: null,
  per_call: null,
  scale: null,
  concurrency: null,
  targets: [],
};

function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}

// ------------------------------------------------------------------------------------- cold start

async function coldStart(fakeUrl) {
  const tmp = await tempDir();
  try {
    const env = serverEnv({ stateDir: join(tmp.dir, "state"), fakeUrl });
    // One start creates the DB (migrations); the measured starts open an existing one.
    const first = await startStdio({ env, cwd: tmp.dir });
    await stopChild(first.child);
    const init = [];
    const list = [];
    const rss = [];
    const rssHandshake = [];
    let tools = first.tools;
    let listBytes = first.listBytes;
    for (let i = 0; i < SIZES.coldRuns; i++) {
      const s = await startStdio({ env, cwd: tmp.dir });
      init.push(s.initMs);
      list.push(s.listMs);
      rssHandshake.push(rssMiB(s.child.pid));
      // Idle: after the background warm-up that follows the handshake (SDK load) has finished.
      await sleep(IDLE_WAIT_MS);
      rss.push(rssMiB(s.child.pid));
      tools = s.tools;
      listBytes = s.listBytes;
      await stopChild(s.child);
    }
    // Reference: a bare `node -e ""` spawned and exited, on the same machine at the same moment.
    const bare = [];
    for (let i = 0; i < SIZES.coldRuns; i++) {
      const t = now();
      const c = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
      await new Promise((r) => c.once("exit", r));
      bare.push(now() - t);
    }
    const six = tools.filter((t) => SIX.includes(t.name));
    return {
      initialize_ms: stats(init),
      tools_list_ms: stats(list),
      bare_node_ms: stats(bare),
      rss_at_handshake_mib: stats(rssHandshake),
      idle_rss_mib: stats(rss),
      idle_wait_ms: IDLE_WAIT_MS,
      tools_list_bytes_six: Buffer.byteLength(JSON.stringify({ tools: six })),
      tools_list_bytes_all: Buffer.byteLength(JSON.stringify({ tools })),
      tools_list_response_bytes: listBytes,
      tool_count: tools.length,
      tool_bytes: Object.fromEntries(tools.map((t) => [t.name, Buffer.byteLength(JSON.stringify(t))])),
    };
  } finally {
    await tmp.cleanup();
  }
}

// ------------------------------------------------------------------------------------- calls

// A client's first tools/call comes after its model has read tools/list: seconds, in practice.
const FIRST_CALL_AFTER_MS = 500;
const IDLE_WAIT_MS = 1000;
const TASK = "Summarise the benchmark in one line.";

async function calls(fake) {
  const tmp = await tempDir();
  const { default: Anthropic } = await import("@anthropic-ai/sdk");
  const sdk = new Anthropic({ apiKey: "bench-key", baseURL: fake.url, maxRetries: 0 });
  const direct = () =>
    sdk.messages.create({
      model: "claude-sonnet-4-6", // the server's default model: same request shape
      max_tokens: 8192,
      system: "You are a helpful assistant.",
      messages: [{ role: "user", content: TASK }],
    });
  try {
    const env = serverEnv({ stateDir: join(tmp.dir, "state"), fakeUrl: fake.url });
    // First run after start vs steady state, over several fresh server processes.
    const firstDelta = [];
    const firstMs = [];
    const steadyMs = [];
    for (let i = 0; i < SIZES.firstRunStarts; i++) {
      const s = await startStdio({ env, cwd: tmp.dir });
      try {
        await sleep(FIRST_CALL_AFTER_MS);
        const f = await s.rpc.call("agent_run_task", { task: TASK });
        const steady = [];
        for (let j = 0; j < SIZES.steadyRuns; j++)
          steady.push((await s.rpc.call("agent_run_task", { task: TASK })).ms);
        const m = medianOf(steady);
        firstMs.push(f.ms);
        steadyMs.push(m);
        firstDelta.push(f.ms - m);
      } finally {
        await stopChild(s.child);
      }
    }

    // One long-lived server: overhead rounds, then up to totalRuns completed runs, RSS, reads.
    const s = await startStdio({ env, cwd: tmp.dir });
    try {
      await sleep(100);
      const rssIdle = rssMiB(s.child.pid);
      let runs = 0;
      for (let i = 0; i < 5; i++) {
        await s.rpc.call("agent_run_task", { task: TASK });
        await direct();
        runs++;
      }
      const overhead = [];
      const runMed = [];
      const sdkMed = [];
      for (let r = 0; r < SIZES.overheadRounds; r++) {
        const a = [];
        const b = [];
        // Interleaved, so load from other processes hits both sides alike.
        for (let i = 0; i < SIZES.overheadPerRound; i++) {
          a.push((await s.rpc.call("agent_run_task", { task: TASK })).ms);
          runs++;
          const t = now();
          await direct();
          b.push(now() - t);
        }
        runMed.push(medianOf(a));
        sdkMed.push(medianOf(b));
        overhead.push(medianOf(a) - medianOf(b));
      }
      const t0 = now();
      let lastId = null;
      while (runs < SIZES.totalRuns) {
        const r = await s.rpc.call("agent_run_task", { task: `${TASK} #${runs}` });
        lastId = r.json.session_id;
        runs++;
      }
      const bulkMs = now() - t0;
      await sleep(200);
      const rssAfter = rssMiB(s.child.pid);

      const ping = [];
      const get = [];
      const status = [];
      const list200 = [];
      let list200Bytes = 0;
      for (let i = 0; i < SIZES.readCalls; i++) {
        ping.push((await s.rpc.request("ping")).ms);
        get.push((await s.rpc.call("agent_get_session", { session_id: lastId })).ms);
        status.push((await s.rpc.call("agent_get_runtime_status")).ms);
        const l = await s.rpc.call("agent_list_sessions", { limit: 200 });
        list200.push(l.ms);
        list200Bytes = l.bytes;
      }
      return {
        first_run: {
          first_run_ms: stats(firstMs),
          steady_run_ms: stats(steadyMs),
          first_minus_steady_ms: stats(firstDelta),
          first_call_after_ms: FIRST_CALL_AFTER_MS,
        },
        memory: {
          rss_before_runs_mib: rssIdle,
          rss_after_runs_mib: rssAfter,
          completed_runs: runs,
          runs_per_second: r3(((runs - 5 - SIZES.overheadRounds * SIZES.overheadPerRound) / bulkMs) * 1000),
        },
        per_call: {
          run_task_ms: stats(runMed),
          direct_sdk_ms: stats(sdkMed),
          run_task_overhead_ms: stats(overhead),
          ping_ms: stats(ping),
          get_session_ms: stats(get),
          runtime_status_ms: stats(status),
          list_sessions_200_ms: stats(list200),
          list_sessions_200_bytes: list200Bytes,
        },
      };
    } finally {
      await stopChild(s.child);
    }
  } finally {
    await tmp.cleanup();
  }
}

// ------------------------------------------------------------------------------------- scale

const WORDS = [
  "refactor",
  "the",
  "parser",
  "module",
  "and",
  "add",
  "tests",
  "for",
  "edge",
  "cases",
  "review",
  "migration",
  "script",
  "update",
  "docs",
  "fix",
  "flaky",
  "build",
  "summarise",
  "logs",
];
const STATUSES = [
  "completed",
  "completed",
  "completed",
  "completed",
  "completed",
  "completed",
  "failed",
  "interrupted",
  "cancelled",
  "completed",
];
const BASE_TIME = Date.parse("2024-01-01T00:00:00.000Z");

function taskText(i) {
  let x = (i * 2654435761) >>> 0;
  const words = [];
  for (let k = 0; k < 14; k++) {
    words.push(WORDS[x % WORDS.length]);
    x = (x * 1103515245 + 12345) >>> 0;
  }
  // "needle": one session in 1,000; "zzqnomatch" never appears (the worst case for a query).
  if (i % 1000 === 7) words.push("needle");
  return `Task ${i}: ${words.join(" ")}.`;
}

async function buildStoreModule() {
  const out = join(REPO_ROOT, "dist", "bench-store.js");
  await build({
    entryPoints: [join(REPO_ROOT, "src", "sessions", "store.ts")],
    outfile: out,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    external: ["better-sqlite3"],
    logLevel: "warning",
  });
  return import(out);
}

function seed(store, from, to) {
  for (let i = from; i < to; i++) {
    const id = `sess_bench${String(i).padStart(7, "0")}`;
    const t0 = new Date(BASE_TIME + i * 1000).toISOString();
    const t1 = new Date(BASE_TIME + i * 1000 + 500).toISOString();
    const task = taskText(i);
    store.startNewSession({
      sessionId: id,
      workflow: i % 7 === 0 ? "verify_task" : "run_task",
      profile: "general",
      backend: "api",
      workingDirectory: "/tmp",
      taskText: task,
      owner: "bench:1",
      lockExpiresAt: t1,
      now: t0,
      events: [
        { type: "user_input", turnIndex: 0, payload: { task } },
        { type: "system_prompt_resolved", turnIndex: 0, payload: { profile: "general" } },
        { type: "provider_request_start", turnIndex: 0, payload: {} },
      ],
    });
    const status = STATUSES[i % STATUSES.length];
    const summary = status === "completed" ? `Done: ${task.slice(0, 60)}` : null;
    store.finishRun({
      sessionId: id,
      owner: "bench:1",
      status,
      now: t1,
      turnsAdded: 1,
      summary,
      inputTokens: 12,
      outputTokens: 6,
      costUsd: null,
      events: [
        {
          type: "provider_transcript",
          turnIndex: 1,
          payload: { messages: [{ role: "assistant", content: summary }] },
        },
        { type: "provider_response_summary", turnIndex: 1, payload: { summary, stop_reason: "end_turn" } },
      ],
      artifacts: [],
      envelope: { ok: status === "completed", session_id: id, status, summary },
    });
  }
}

const SCALE_OPS = [
  ["get_session", null],
  ["list limit 20", { limit: 20 }],
  ["list limit 200", { limit: 200 }],
  ["list status=failed limit 20", { limit: 20, status: "failed" }],
  ["list status=failed limit 200", { limit: 200, status: "failed" }],
  ["list query=refactor (common) limit 200", { limit: 200, query: "refactor" }],
  ["list query=needle (rare) limit 20", { limit: 20, query: "needle" }],
  ["list status=completed query=needle limit 20", { limit: 20, status: "completed", query: "needle" }],
  ["list query=zzqnomatch (no match) limit 20", { limit: 20, query: "zzqnomatch" }],
  ["list status=failed query=zzqnomatch limit 200", { limit: 200, status: "failed", query: "zzqnomatch" }],
];

async function scale(fakeUrl) {
  const mod = await buildStoreModule();
  const tmp = await tempDir();
  const out = { sizes: SIZES.scale, ops: {}, startup_tools_list_ms: {}, seed_seconds: {} };
  try {
    const stateDir = join(tmp.dir, "state");
    const dbPath = join(stateDir, "claude-agent-mcp.db");
    const env = serverEnv({ stateDir, fakeUrl, extra: { CLAUDE_AGENT_MCP_DB_PATH: dbPath } });
    // Let the server create the state dir and DB the way it does in production.
    await stopChild((await startStdio({ env, cwd: tmp.dir })).child);
    let seeded = 0;
    for (const n of SIZES.scale) {
      const t = now();
      const store = mod.openStore(dbPath);
      const deadline = Date.now() + 30 * 60_000;
      // Chunks keep progress visible; each session is its own start + finish, as in production.
      while (seeded < n && Date.now() < deadline) {
        const to = Math.min(n, seeded + 10_000);
        seed(store, seeded, to);
        seeded = to;
        if (!QUICK) log(`seeded ${seeded} sessions`);
      }
      store.close();
      out.seed_seconds[n] = r3((now() - t) / 1000);

      const starts = [];
      for (let i = 0; i < SIZES.scaleStarts; i++) {
        const s = await startStdio({ env, cwd: tmp.dir });
        starts.push(s.listMs);
        await stopChild(s.child);
      }
      out.startup_tools_list_ms[n] = stats(starts);

      const s = await startStdio({ env, cwd: tmp.dir });
      try {
        for (const [name, args] of SCALE_OPS) {
          const ms = [];
          let rows = null;
          for (let i = 0; i < SIZES.scaleCalls + 10; i++) {
            let r;
            if (args === null) {
              const k = Math.floor(Math.random() * n);
              r = await s.rpc.call("agent_get_session", {
                session_id: `sess_bench${String(k).padStart(7, "0")}`,
              });
            } else {
              r = await s.rpc.call("agent_list_sessions", args);
              rows = r.json.sessions.length;
            }
            if (i >= 10) ms.push(r.ms); // the first calls warm statement caches
          }
          out.ops[name] ??= {};
          out.ops[name][n] = { ...stats(ms), ...(rows === null ? {} : { rows }) };
        }
      } finally {
        await stopChild(s.child);
      }
    }
    return out;
  } finally {
    await tmp.cleanup();
  }
}

// ------------------------------------------------------------------------------------- concurrency

async function concurrency() {
  const fake = await startFakeApi({ latencyMs: 0 });
  const tmp = await tempDir();
  const out = { latency_ms: SIZES.latencyMs, stdio: null, http: null };
  try {
    const env = serverEnv({ stateDir: join(tmp.dir, "state"), fakeUrl: fake.url });
    const s = await startStdio({ env, cwd: tmp.dir });
    try {
      await s.rpc.call("agent_run_task", { task: "warm up" });
      fake.setLatency(SIZES.latencyMs);
      const ratios = [];
      const walls = [];
      for (let r = 0; r < SIZES.concRounds; r++) {
        const t = now();
        await Promise.all(
          Array.from({ length: SIZES.concurrent }, (_, i) =>
            s.rpc.call("agent_run_task", { task: `parallel ${i}` }),
          ),
        );
        const wall = now() - t;
        walls.push(wall);
        ratios.push(wall / SIZES.latencyMs);
      }
      out.stdio = { runs: SIZES.concurrent, wall_ms: stats(walls), wall_over_latency: stats(ratios) };
    } finally {
      await stopChild(s.child);
      fake.setLatency(0);
    }
    out.http = await httpConcurrency(fake, tmp.dir);
  } finally {
    await fake.close();
    await tmp.cleanup();
  }
  return out;
}

async function httpConcurrency(fake, dir) {
  const port = await freePort();
  const env = serverEnv({ stateDir: join(dir, "state-http"), fakeUrl: fake.url });
  const child = spawnCli(["--transport", "streamable-http", "--port", String(port), "--host", "127.0.0.1"], {
    env,
    cwd: dir,
  });
  child.stdout.resume();
  const clients = [];
  try {
    const url = new URL(`http://127.0.0.1:${port}/mcp`);
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) {
        return {
          measured: false,
          reason: `server exited: ${child.stderrTail().trim().split("\n").slice(-3).join(" | ")}`,
        };
      }
      try {
        await fetch(url, { method: "GET", signal: AbortSignal.timeout(500) }).then((r) => r.body?.cancel());
        break;
      } catch {
        if (Date.now() > deadline) return { measured: false, reason: "server did not listen within 15 s" };
        await sleep(50);
      }
    }
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
    const { StreamableHTTPClientTransport } = await import(
      "@modelcontextprotocol/sdk/client/streamableHttp.js"
    );
    for (let i = 0; i < SIZES.httpClients; i++) {
      const c = new Client({ name: `bench-${i}`, version: "1.0.0" });
      await c.connect(new StreamableHTTPClientTransport(url));
      clients.push(c);
    }
    await clients[0].callTool({ name: "agent_run_task", arguments: { task: "warm up" } });
    fake.setLatency(SIZES.latencyMs);
    const walls = [];
    const ratios = [];
    for (let r = 0; r < SIZES.concRounds; r++) {
      const t = now();
      const res = await Promise.all(
        clients.map((c, i) =>
          c.callTool({ name: "agent_run_task", arguments: { task: `http ${i}` } }, undefined, {
            timeout: 60_000,
          }),
        ),
      );
      const wall = now() - t;
      const failed = res.filter((x) => x.isError).length;
      if (failed) return { measured: false, reason: `${failed} of ${clients.length} runs failed` };
      walls.push(wall);
      ratios.push(wall / SIZES.latencyMs);
    }
    return {
      measured: true,
      clients: clients.length,
      wall_ms: stats(walls),
      wall_over_latency: stats(ratios),
    };
  } catch (err) {
    return { measured: false, reason: String(err?.message ?? err).slice(0, 300) };
  } finally {
    fake.setLatency(0);
    await Promise.allSettled(clients.map((c) => c.close()));
    child.kill("SIGTERM");
    const t = setTimeout(() => killPid(child.pid), 5000);
    await child.exited;
    clearTimeout(t);
  }
}

// ------------------------------------------------------------------------------------- targets & table

function target(name, value, limit, unit, note) {
  const met = value === null || value === undefined ? null : value < limit;
  results.targets.push({ name, value, target: `< ${limit} ${unit}`, met, ...(note ? { note } : {}) });
}

function evaluate() {
  const c = results.cold_start;
  if (c) {
    target("cold start → initialize", c.initialize_ms.median, 100, "ms");
    target("cold start → tools/list", c.tools_list_ms.median, 100, "ms");
    target("tools/list bytes (six tools)", c.tools_list_bytes_six, 3500, "B");
    target("idle RSS after tools/list", c.idle_rss_mib.median, 60, "MiB");
  }
  if (results.memory) {
    target(`RSS after ${results.memory.completed_runs} runs`, results.memory.rss_after_runs_mib, 90, "MiB");
  }
  if (results.first_run)
    target("first run − steady", results.first_run.first_minus_steady_ms.median, 50, "ms");
  const p = results.per_call;
  if (p) {
    target("agent_run_task overhead vs direct SDK", p.run_task_overhead_ms.median, 2, "ms");
    target("agent_get_session", p.get_session_ms.median, 1, "ms");
    target("agent_get_runtime_status", p.runtime_status_ms.median, 1, "ms");
    target("agent_list_sessions limit 200", p.list_sessions_200_ms.median, 2.5, "ms");
  }
  const sc = results.scale;
  if (sc) {
    const big = sc.sizes[sc.sizes.length - 1];
    for (const [name, v] of Object.entries(sc.ops)) target(`${name} @ ${big}`, v[big]?.median, 2, "ms");
    const small = sc.sizes[0];
    const a = sc.startup_tools_list_ms[small]?.median;
    const b = sc.startup_tools_list_ms[big]?.median;
    if (a && b) target(`startup @ ${big} − startup @ ${small}`, r3(b - a), 20, "ms", "flat: within noise");
  }
  const cc = results.concurrency;
  if (cc?.stdio)
    target(
      `${cc.stdio.runs} concurrent runs over stdio: wall / latency`,
      cc.stdio.wall_over_latency.median,
      1.15,
      "×",
    );
  if (cc?.http) {
    if (cc.http.measured)
      target(`${cc.http.clients} HTTP clients: wall / latency`, cc.http.wall_over_latency.median, 1.3, "×");
    else
      results.targets.push({
        name: "HTTP clients: wall / latency",
        value: null,
        target: "< 1.3 ×",
        met: null,
        note: `not measured: ${cc.http.reason}`,
      });
  }
}

const fmt = (s) =>
  s && s.median !== null && s.median !== undefined ? `${s.median} (${s.min}–${s.max})` : "n/a";

function printTable() {
  const rows = [];
  const add = (section, name, value) => rows.push([section, name, String(value)]);
  const c = results.cold_start;
  if (c) {
    add("cold start", "spawn → initialize (ms)", fmt(c.initialize_ms));
    add("cold start", "spawn → tools/list (ms)", fmt(c.tools_list_ms));
    add("cold start", 'reference: bare `node -e ""` spawn → exit (ms)', fmt(c.bare_node_ms));
    add(
      "cold start",
      "tools/list bytes: six / all tools",
      `${c.tools_list_bytes_six} / ${c.tools_list_bytes_all} (${c.tool_count} tools)`,
    );
    add("memory", "RSS right after tools/list (MiB)", fmt(c.rss_at_handshake_mib));
    add("memory", `idle RSS, ${c.idle_wait_ms} ms after tools/list (MiB)`, fmt(c.idle_rss_mib));
  }
  const m = results.memory;
  if (m)
    add(
      "memory",
      `RSS after ${m.completed_runs} runs (MiB)`,
      `${m.rss_after_runs_mib} (before: ${m.rss_before_runs_mib}; ${m.runs_per_second} runs/s)`,
    );
  const f = results.first_run;
  if (f) {
    add(
      "first run",
      `first agent_run_task, ${f.first_call_after_ms} ms after tools/list (ms)`,
      fmt(f.first_run_ms),
    );
    add("first run", "steady agent_run_task (ms)", fmt(f.steady_run_ms));
    add("first run", "first − steady (ms)", fmt(f.first_minus_steady_ms));
  }
  const p = results.per_call;
  if (p) {
    add("per call", "agent_run_task @ 0 ms fake (ms)", fmt(p.run_task_ms));
    add("per call", "direct SDK messages.create (ms)", fmt(p.direct_sdk_ms));
    add("per call", "run_task overhead (ms)", fmt(p.run_task_overhead_ms));
    add("per call", "MCP ping round trip (ms)", fmt(p.ping_ms));
    add("per call", "agent_get_session (ms)", fmt(p.get_session_ms));
    add("per call", "agent_get_runtime_status (ms)", fmt(p.runtime_status_ms));
    add(
      "per call",
      `agent_list_sessions limit 200 (ms; ${p.list_sessions_200_bytes} B)`,
      fmt(p.list_sessions_200_ms),
    );
  }
  const sc = results.scale;
  if (sc) {
    for (const n of sc.sizes)
      add("scale", `startup → tools/list @ ${n} (ms)`, fmt(sc.startup_tools_list_ms[n]));
    for (const [name, v] of Object.entries(sc.ops)) {
      add(
        "scale",
        `${name} (ms)`,
        sc.sizes
          .map((n) => `${n}: ${fmt(v[n])}${v[n]?.rows !== undefined ? ` [${v[n].rows} rows]` : ""}`)
          .join("  "),
      );
    }
    add("scale", "seed time (s)", sc.sizes.map((n) => `${n}: ${sc.seed_seconds[n]}`).join("  "));
  }
  const cc = results.concurrency;
  if (cc?.stdio)
    add(
      "concurrency",
      `${cc.stdio.runs} runs over stdio @ ${cc.latency_ms} ms: wall/latency`,
      fmt(cc.stdio.wall_over_latency),
    );
  if (cc?.http) {
    add(
      "concurrency",
      `${cc.http.clients ?? SIZES.httpClients} HTTP clients @ ${cc.latency_ms} ms: wall/latency`,
      cc.http.measured ? fmt(cc.http.wall_over_latency) : `not measured (${cc.http.reason})`,
    );
  }
  const w = [0, 1].map((i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2]}`;
  console.log(
    `\nclaude-agent-mcp bench${QUICK ? " (--quick)" : ""}: median (min–max)  node ${process.version}, load ${results.meta.loadavg.join(" ")}\n`,
  );
  console.log(line(["section", "measure", "value"]));
  console.log(line(["-".repeat(w[0]), "-".repeat(w[1]), "-----"]));
  for (const r of rows) console.log(line(r));
  console.log("\ntargets:");
  for (const t of results.targets) {
    const mark = t.met === null ? "n/a " : t.met ? "met " : "MISS";
    console.log(`  ${mark}  ${t.name}: ${t.value ?? "-"} (target ${t.target})${t.note ? `  ${t.note}` : ""}`);
  }
}

// ------------------------------------------------------------------------------------- main

async function main() {
  const { existsSync } = await import("node:fs");
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first`);
  const fake = await startFakeApi();
  const started = now();
  try {
    if (want("cold")) {
      log("cold start");
      results.cold_start = await coldStart(fake.url);
    }
    if (want("calls")) {
      log("per-call overhead, first run, memory");
      const r = await calls(fake);
      results.first_run = r.first_run;
      results.memory = r.memory;
      results.per_call = r.per_call;
    }
    if (want("scale")) {
      log(`scale (${SIZES.scale.join(", ")} sessions)`);
      results.scale = await scale(fake.url);
    }
    if (want("concurrency")) {
      log("concurrency");
      results.concurrency = await concurrency();
    }
  } finally {
    await fake.close();
  }
  results.meta.duration_s = r3((now() - started) / 1000);
  evaluate();
  writeFileSync(RESULTS_PATH, `${JSON.stringify(results, null, 2)}\n`);
  printTable();
  console.log(`\nwrote ${RESULTS_PATH} in ${results.meta.duration_s} s`);
}

const hardStop = setTimeout(
  () => {
    process.stderr.write("[bench] giving up after the time limit\n");
    process.exit(2);
  },
  (QUICK ? 5 : 60) * 60_000,
);
hardStop.unref();

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`[bench] failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
