// The SQLite store on real files: migrations (including a database written by the original
// Python server), atomic lock acquisition, owner-aware recovery, and history rebuilt from events.
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildHistory } from "../../src/sessions/history.js";
import { createOwner, isDeadLock } from "../../src/sessions/ownership.js";
import { openStore, SCHEMA_VERSION, type SessionStore } from "../../src/sessions/store.js";

let dir: string;
let store: SessionStore | null = null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cam-store-"));
});
afterEach(() => {
  store?.close();
  store = null;
  rmSync(dir, { recursive: true, force: true });
});

const iso = (offsetMs = 0) => new Date(Date.now() + offsetMs).toISOString();

function start(s: SessionStore, id: string, owner = "h:1:a", exp = iso(60_000)) {
  return s.startNewSession({
    sessionId: id,
    workflow: "run_task",
    profile: "general",
    backend: "api",
    workingDirectory: dir,
    taskText: `task of ${id}`,
    owner,
    lockExpiresAt: exp,
    now: iso(),
    events: [{ type: "user_input", turnIndex: 0, payload: { task: `task of ${id}` } }],
  });
}

describe("migrations", () => {
  it("opens a database written by the original server and migrates it", () => {
    const path = join(dir, "old.db");
    const db = new Database(path);
    db.exec(`
      CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
      INSERT INTO schema_migrations VALUES (1, '2026-01-01 00:00:00');
      CREATE TABLE sessions (session_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, profile TEXT NOT NULL,
        provider TEXT NOT NULL DEFAULT 'claude', provider_session_id TEXT, status TEXT NOT NULL DEFAULT 'created',
        working_directory TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, last_activity_at TEXT NOT NULL,
        request_count INTEGER NOT NULL DEFAULT 0, turn_count INTEGER NOT NULL DEFAULT 0,
        artifact_count INTEGER NOT NULL DEFAULT 0, summary_latest TEXT, locked_by TEXT, lock_expires_at TEXT);
      CREATE TABLE session_events (event_id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL,
        event_type TEXT NOT NULL, turn_index INTEGER NOT NULL DEFAULT 0, payload TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL);
      CREATE TABLE artifacts (artifact_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, workflow TEXT NOT NULL,
        profile TEXT NOT NULL, artifact_type TEXT NOT NULL, logical_name TEXT NOT NULL,
        mime_type TEXT NOT NULL DEFAULT 'application/octet-stream', path TEXT NOT NULL,
        size_bytes INTEGER NOT NULL DEFAULT 0, sha256 TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL,
        turn_index INTEGER NOT NULL DEFAULT 0, producer_tool TEXT NOT NULL DEFAULT '');
      INSERT INTO sessions (session_id, workflow, profile, status, created_at, updated_at, last_activity_at,
        request_count, turn_count, summary_latest)
        VALUES ('sess_old', 'run_task', 'general', 'completed', '2026-01-01T00:00:00+00:00',
        '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00', 1, 1, 'Old answer');
      INSERT INTO session_events (session_id, event_type, payload, created_at) VALUES
        ('sess_old', 'user_input', '{"task":"old task"}', 'x'),
        ('sess_old', 'provider_response_summary', '{"summary":"Old answer","stop_reason":"end_turn"}', 'x');
    `);
    db.close();
    store = openStore(path);
    expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
    const old = store.getSession("sess_old")!;
    expect(old).toMatchObject({ status: "completed", summary_latest: "Old answer", input_tokens: 0 });
    // Original sessions replay their summaries when nothing better exists.
    const h = buildHistory(store.getEvents("sess_old"));
    expect(h.messages).toEqual([
      { role: "user", content: "old task" },
      { role: "assistant", content: "Old answer" },
    ]);
    store.close();
    store = openStore(path); // idempotent
    expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
  });

  it("sets WAL, foreign keys and a busy timeout", () => {
    const path = join(dir, "s.db");
    store = openStore(path);
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    raw.close();
  });
});

describe("locks", () => {
  it("acquire is one conditional update: the second owner conflicts and changes nothing", () => {
    store = openStore(join(dir, "s.db"));
    start(store, "sess_a");
    store.finishRun({
      sessionId: "sess_a",
      owner: "h:1:a",
      status: "completed",
      now: iso(),
      turnsAdded: 1,
      summary: "done",
      inputTokens: 1,
      outputTokens: 2,
      costUsd: 0.5,
      events: [],
      artifacts: [],
      envelope: { ok: true },
    });
    const first = store.acquire("sess_a", "h:1:b", iso(60_000), iso(), []);
    expect(first.ok).toBe(true);
    const second = store.acquire("sess_a", "h:1:c", iso(60_000), iso(), []);
    expect(second).toMatchObject({ ok: false, reason: "conflict" });
    const row = store.getSession("sess_a")!;
    expect(row).toMatchObject({ status: "running", locked_by: "h:1:b", request_count: 2, cost_usd: 0.5 });
    expect(store.acquire("sess_zzz", "h:1:c", iso(60_000), iso(), [])).toEqual({
      ok: false,
      reason: "not_found",
    });
    // Finishing by a non-owner does nothing.
    store.finishRun({
      sessionId: "sess_a",
      owner: "h:1:c",
      status: "failed",
      now: iso(),
      turnsAdded: 9,
      summary: null,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: null,
      events: [],
      artifacts: [],
      envelope: {},
    });
    expect(store.getSession("sess_a")).toMatchObject({ status: "running", turn_count: 1 });
  });

  it("renewal only works for the owner", () => {
    store = openStore(join(dir, "s.db"));
    start(store, "sess_r");
    expect(store.renewLock("sess_r", "h:1:a", iso(120_000), [{ type: "x", turnIndex: 0, payload: {} }])).toBe(
      true,
    );
    expect(store.renewLock("sess_r", "h:1:other", iso(120_000), [])).toBe(false);
    expect(store.getEvents("sess_r").map((e) => e.event_type)).toEqual(["user_input", "x"]);
  });
});

describe("recovery", () => {
  it("interrupts dead runs only: expired locks, gone pids on this host, older incarnations", () => {
    store = openStore(join(dir, "s.db"));
    const self = createOwner();
    const host = hostname();
    start(store, "sess_live_self", self.id);
    start(store, "sess_live_parent", `${host}:${process.ppid}:x1`);
    start(store, "sess_other_host", "elsewhere:1:x2");
    start(store, "sess_expired", `elsewhere:1:x3`, iso(-1000));
    start(store, "sess_dead_pid", `${host}:999999:x4`);
    start(store, "sess_old_me", `${host}:${process.pid}:oldinst`);
    const now = iso();
    const ids = store.recover((by, exp) => by !== self.id && isDeadLock(self, by, exp, now), now).sort();
    expect(ids).toEqual(["sess_dead_pid", "sess_expired", "sess_old_me"]);
    for (const id of ids) {
      expect(store.getSession(id)).toMatchObject({ status: "interrupted", locked_by: null });
      expect(store.getEvents(id).at(-1)!.event_type).toBe("session_interrupted");
    }
    for (const id of ["sess_live_self", "sess_live_parent", "sess_other_host"]) {
      expect(store.getSession(id)!.status).toBe("running");
    }
  });
});

describe("list", () => {
  it("orders by update time and filters by status, workflow and query", () => {
    store = openStore(join(dir, "s.db"));
    for (const id of ["sess_1", "sess_2", "sess_3"]) start(store, id);
    store.finishRun({
      sessionId: "sess_2",
      owner: "h:1:a",
      status: "failed",
      now: iso(5),
      turnsAdded: 0,
      summary: "Banana split",
      inputTokens: 0,
      outputTokens: 0,
      costUsd: null,
      events: [],
      artifacts: [],
      envelope: {},
    });
    expect(store.listSessions({ limit: 10 })[0].session_id).toBe("sess_2");
    expect(store.listSessions({ limit: 10, status: "failed" }).map((s) => s.session_id)).toEqual(["sess_2"]);
    expect(store.listSessions({ limit: 10, query: "BANANA" }).map((s) => s.session_id)).toEqual(["sess_2"]);
    expect(store.listSessions({ limit: 10, query: "task of sess_3" }).map((s) => s.session_id)).toEqual([
      "sess_3",
    ]);
    expect(store.listSessions({ limit: 10, workflow: "verify_task" })).toEqual([]);
    expect(store.listSessions({ limit: 2 })).toHaveLength(2);
  });
});
