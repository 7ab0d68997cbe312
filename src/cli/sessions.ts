// `claude-agent-mcp sessions list|show`: the state DB read directly through the store, for
// operators without an MCP client. Tables on stdout (cut to the terminal width), or --json.
// A missing DB is not created: it simply has no sessions yet.
import { existsSync } from "node:fs";
import type { Config } from "../config.js";
import { artifactMeta } from "../server/tools/artifacts.js";
import { sessionDetail } from "../server/tools/get-session.js";
import { openStore, type SessionListItem, type SessionStatus, type SessionStore } from "../sessions/store.js";

const STATUSES: SessionStatus[] = ["created", "running", "completed", "failed", "interrupted", "cancelled"];
const MAX_LIMIT = 1000;

export interface ListOptions {
  status?: string;
  limit: string;
  json?: boolean;
}

export interface ShowOptions {
  events?: boolean;
  json?: boolean;
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Terminal width; undefined = not a terminal (COLUMNS or 120 is used). */
  columns?: number;
}

const defaultIo = (): Io => ({
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  columns: process.stdout.isTTY ? process.stdout.columns : undefined,
});

function width(io: Io): number {
  if (io.columns && io.columns > 0) return io.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : 120;
}

function withStore<T>(config: Config, fn: (store: SessionStore) => T): T {
  const store = openStore(config.dbPath);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/** `2025-01-02T03:04:05.678Z` -> `2025-01-02 03:04:05Z`. */
function shortTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]}Z` : iso;
}

function oneLine(s: string | null | undefined): string {
  return (s ?? "").replace(/\s+/g, " ").trim();
}

/** Cuts to `max` characters (code points), with an ellipsis when something was cut. */
function cut(s: string, max: number): string {
  const chars = Array.from(s);
  if (chars.length <= max) return s;
  if (max <= 1) return max === 1 ? "…" : "";
  return `${chars.slice(0, max - 1).join("")}…`;
}

export function renderTable(rows: SessionListItem[], columns: number): string {
  const header = ["SESSION", "STATUS", "WORKFLOW", "PROFILE", "UPDATED", "SUMMARY"];
  const cells = rows.map((r) => [
    r.session_id,
    r.status,
    r.workflow,
    r.profile,
    shortTime(r.updated_at),
    oneLine(r.summary_latest),
  ]);
  const widths = header.slice(0, 5).map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const fixed = widths.reduce((a, b) => a + b + 2, 0);
  // Fixed columns are never cut (ids must stay whole); the summary gets the rest, if any is left.
  const summaryWidth = columns - fixed >= 8 ? columns - fixed : 0;
  const line = (c: string[]) =>
    `${c
      .slice(0, 5)
      .map((v, i) => v.padEnd(widths[i]))
      .join("  ")}  ${cut(c[5], summaryWidth)}`.trimEnd();
  return `${[line(header), ...cells.map(line)].join("\n")}\n`;
}

export function listCommand(config: Config, opts: ListOptions, io: Io = defaultIo()): number {
  const problems: string[] = [];
  if (opts.status !== undefined && !STATUSES.includes(opts.status as SessionStatus)) {
    problems.push(`--status: ${JSON.stringify(opts.status)} is not one of ${STATUSES.join(", ")}`);
  }
  const limit = /^\s*\d+\s*$/.test(opts.limit) ? Number(opts.limit) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) {
    problems.push(`--limit: expected an integer 1..${MAX_LIMIT}, got ${JSON.stringify(opts.limit)}`);
  }
  if (problems.length) {
    io.err(`claude-agent-mcp sessions list: ${problems.join("; ")}\n`);
    return 1;
  }
  const rows = existsSync(config.dbPath)
    ? withStore(config, (s) => s.listSessions({ limit, status: opts.status as SessionStatus | undefined }))
    : [];
  if (opts.json) {
    io.out(`${JSON.stringify({ sessions: rows }, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    io.out(
      existsSync(config.dbPath)
        ? `No sessions${opts.status ? ` with status ${opts.status}` : ""}.\n`
        : `No sessions (no database at ${config.dbPath} yet).\n`,
    );
    return 0;
  }
  io.out(renderTable(rows, width(io)));
  return 0;
}

function formatPayload(p: Record<string, unknown>, max: number): string {
  return cut(oneLine(JSON.stringify(p)), max);
}

export function showCommand(config: Config, id: string, opts: ShowOptions, io: Io = defaultIo()): number {
  const notFound = () => {
    io.err(`claude-agent-mcp: session not found: ${id} (database ${config.dbPath})\n`);
    return 1;
  };
  if (!existsSync(config.dbPath)) return notFound();
  const found = withStore(config, (store) => {
    const s = store.getSession(id);
    if (!s) return null;
    return {
      detail: sessionDetail(s),
      task: s.task_text,
      artifacts: store.listArtifacts(id, 1000).map(artifactMeta),
      events: opts.events ? store.getEvents(id) : undefined,
    };
  });
  if (!found) return notFound();
  const { detail, artifacts, events } = found;

  if (opts.json) {
    io.out(
      `${JSON.stringify({ ...detail, task_text: found.task, artifacts, ...(events ? { events } : {}) }, null, 2)}\n`,
    );
    return 0;
  }
  const cols = width(io);
  const out: string[] = [];
  const kv = (k: string, v: unknown) => out.push(`${`${k}:`.padEnd(14)} ${v ?? ""}`);
  kv("session", detail.session_id);
  kv("status", detail.status);
  kv("workflow", detail.workflow);
  kv("profile", detail.profile);
  kv("backend", detail.backend ?? "(unknown)");
  kv("created", shortTime(detail.created_at));
  kv("updated", shortTime(detail.updated_at));
  kv("directory", detail.working_directory ?? "");
  kv("requests", detail.request_count);
  kv("turns", detail.turn_count);
  const u = detail.usage;
  kv(
    "usage",
    `${u.input_tokens} input / ${u.output_tokens} output tokens${u.cost_usd != null ? `, $${Number(u.cost_usd).toFixed(4)}` : ""}`,
  );
  if (found.task) kv("task", cut(oneLine(found.task), Math.max(20, cols - 15)));
  kv("summary", cut(oneLine(detail.summary_latest), Math.max(20, cols - 15)));
  const latest = detail.latest_result as {
    ok?: boolean;
    errors?: { code?: string; message?: string }[];
  } | null;
  if (latest && Array.isArray(latest.errors) && latest.errors.length) {
    for (const e of latest.errors)
      kv("error", cut(`${e.code ?? ""}: ${oneLine(e.message)}`, Math.max(20, cols - 15)));
  }
  out.push("");
  out.push(`artifacts (${artifacts.length}):`);
  if (artifacts.length === 0) out.push("  (none)");
  for (const a of artifacts) {
    out.push(
      `  ${a.artifact_id}  ${a.artifact_type}  ${a.logical_name}  ${a.size_bytes} bytes  ${a.mime_type}`,
    );
    out.push(`    ${a.uri}`);
  }
  if (events) {
    out.push("");
    out.push(`events (${events.length}):`);
    for (const e of events) {
      const head = `  #${e.event_id}  ${shortTime(e.created_at)}  turn ${e.turn_index}  ${e.event_type}`;
      const room = cols - head.length - 2;
      out.push(room > 10 ? `${head}  ${formatPayload(e.payload, room)}` : head);
    }
  }
  io.out(`${out.join("\n")}\n`);
  return 0;
}
