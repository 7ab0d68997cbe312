// The session store: the only module that knows SQL. Its interface carries no better-sqlite3
// types, so another store (PostgreSQL for shared deployments) can slot in behind it.
//
// Write pattern per run: one transaction to start (insert or lock + `running` + first events),
// one to finish (events, status, counters, envelope, artifacts, unlock). Lock renewals in between
// also flush buffered events. WAL + synchronous=NORMAL keeps commits cheap.
import Database from "better-sqlite3";

export type SessionStatus = "created" | "running" | "completed" | "failed" | "interrupted" | "cancelled";
export type Workflow = "run_task" | "continue_session" | "verify_task";
export type ProfileName = "general" | "verification";

export interface SessionRecord {
  session_id: string;
  workflow: Workflow;
  profile: ProfileName;
  provider: string;
  provider_session_id: string | null;
  status: SessionStatus;
  working_directory: string | null;
  created_at: string;
  updated_at: string;
  last_activity_at: string;
  request_count: number;
  turn_count: number;
  artifact_count: number;
  summary_latest: string | null;
  locked_by: string | null;
  lock_expires_at: string | null;
  backend: string | null;
  task_text: string | null;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number | null;
  latest_result: string | null;
}

export interface SessionListItem {
  session_id: string;
  workflow: Workflow;
  profile: ProfileName;
  status: SessionStatus;
  updated_at: string;
  summary_latest: string | null;
}

export interface NewEvent {
  type: string;
  turnIndex: number;
  payload: Record<string, unknown>;
}

export interface StoredEvent {
  event_id: number;
  event_type: string;
  turn_index: number;
  payload: Record<string, unknown>;
  created_at: string;
}

export interface ArtifactRecord {
  artifact_id: string;
  session_id: string;
  workflow: string;
  profile: string;
  artifact_type: string;
  logical_name: string;
  mime_type: string;
  path: string;
  size_bytes: number;
  sha256: string;
  created_at: string;
  turn_index: number;
  producer_tool: string;
}

export interface StartRunInput {
  sessionId: string;
  workflow: Workflow;
  profile: ProfileName;
  backend: string;
  workingDirectory: string;
  taskText: string;
  owner: string;
  lockExpiresAt: string;
  now: string;
  events: NewEvent[];
}

export type AcquireResult =
  | { ok: true; session: SessionRecord }
  | { ok: false; reason: "not_found" }
  | { ok: false; reason: "conflict"; session: SessionRecord };

export interface FinishRunInput {
  sessionId: string;
  owner: string;
  status: SessionStatus;
  now: string;
  turnsAdded: number;
  summary: string | null;
  providerSessionId?: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  events: NewEvent[];
  artifacts: ArtifactRecord[];
  envelope: unknown;
}

export interface ListQuery {
  limit: number;
  status?: SessionStatus;
  workflow?: Workflow;
  query?: string;
}

export interface SessionStore {
  startNewSession(input: StartRunInput): SessionRecord;
  acquire(
    sessionId: string,
    owner: string,
    lockExpiresAt: string,
    now: string,
    events: NewEvent[],
  ): AcquireResult;
  renewLock(sessionId: string, owner: string, lockExpiresAt: string, events: NewEvent[]): boolean;
  finishRun(input: FinishRunInput): void;
  getSession(sessionId: string): SessionRecord | null;
  listSessions(q: ListQuery): SessionListItem[];
  getEvents(sessionId: string, opts?: { limit?: number; types?: string[] }): StoredEvent[];
  /** Marks `running` sessions whose owner is dead as interrupted; returns their ids. */
  recover(
    isDead: (lockedBy: string | null, lockExpiresAt: string | null, sessionId: string) => boolean,
    now: string,
  ): string[];
  getArtifact(artifactId: string): ArtifactRecord | null;
  listArtifacts(sessionId?: string, limit?: number): ArtifactRecord[];
  /** All artifacts, newest first, keyset-paged: the page after `before` (resources/list cursors). */
  listArtifactsPage(limit: number, before?: { created_at: string; artifact_id: string }): ArtifactRecord[];
  schemaVersion(): number;
  sessionCount(): number;
  close(): void;
}

// Migration 1 is upstream's schema verbatim (so the original's DB opens as-is); later ones add.
const MIGRATIONS: string[] = [
  `
  CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, profile TEXT NOT NULL,
    provider TEXT NOT NULL DEFAULT 'claude', provider_session_id TEXT,
    status TEXT NOT NULL DEFAULT 'created', working_directory TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, last_activity_at TEXT NOT NULL,
    request_count INTEGER NOT NULL DEFAULT 0, turn_count INTEGER NOT NULL DEFAULT 0,
    artifact_count INTEGER NOT NULL DEFAULT 0, summary_latest TEXT,
    locked_by TEXT, lock_expires_at TEXT);
  CREATE INDEX IF NOT EXISTS idx_sessions_status ON sessions(status);
  CREATE INDEX IF NOT EXISTS idx_sessions_updated ON sessions(updated_at DESC);
  CREATE TABLE IF NOT EXISTS session_events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions(session_id),
    event_type TEXT NOT NULL, turn_index INTEGER NOT NULL DEFAULT 0,
    payload TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS idx_events_session ON session_events(session_id, event_id);
  CREATE TABLE IF NOT EXISTS artifacts (
    artifact_id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(session_id),
    workflow TEXT NOT NULL, profile TEXT NOT NULL, artifact_type TEXT NOT NULL,
    logical_name TEXT NOT NULL, mime_type TEXT NOT NULL DEFAULT 'application/octet-stream',
    path TEXT NOT NULL, size_bytes INTEGER NOT NULL DEFAULT 0, sha256 TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL, turn_index INTEGER NOT NULL DEFAULT 0,
    producer_tool TEXT NOT NULL DEFAULT '');
  CREATE INDEX IF NOT EXISTS idx_artifacts_session ON artifacts(session_id);
  `,
  `
  ALTER TABLE sessions ADD COLUMN backend TEXT;
  ALTER TABLE sessions ADD COLUMN task_text TEXT;
  ALTER TABLE sessions ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE sessions ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE sessions ADD COLUMN cost_usd REAL;
  ALTER TABLE sessions ADD COLUMN latest_result TEXT;
  CREATE INDEX IF NOT EXISTS idx_sessions_status_updated ON sessions(status, updated_at DESC);
  CREATE INDEX IF NOT EXISTS idx_sessions_workflow_updated ON sessions(workflow, updated_at DESC);
  `,
  // A trigram index over task text and summary, so a rare `query` in agent_list_sessions is a few
  // index lookups instead of a scan of every session (see listSessions). External content: the
  // text lives only in `sessions`; triggers keep the index in step, keyed by sessions' rowid.
  `
  CREATE VIRTUAL TABLE IF NOT EXISTS sessions_fts USING fts5(task_text, summary_latest,
    content='sessions', content_rowid='rowid', tokenize='trigram');
  INSERT INTO sessions_fts(sessions_fts) VALUES ('rebuild');
  CREATE TRIGGER IF NOT EXISTS sessions_fts_insert AFTER INSERT ON sessions BEGIN
    INSERT INTO sessions_fts(rowid, task_text, summary_latest) VALUES (new.rowid, new.task_text, new.summary_latest);
  END;
  CREATE TRIGGER IF NOT EXISTS sessions_fts_delete AFTER DELETE ON sessions BEGIN
    INSERT INTO sessions_fts(sessions_fts, rowid, task_text, summary_latest)
      VALUES ('delete', old.rowid, old.task_text, old.summary_latest);
  END;
  CREATE TRIGGER IF NOT EXISTS sessions_fts_update AFTER UPDATE OF task_text, summary_latest ON sessions
    WHEN old.task_text IS NOT new.task_text OR old.summary_latest IS NOT new.summary_latest BEGIN
    INSERT INTO sessions_fts(sessions_fts, rowid, task_text, summary_latest)
      VALUES ('delete', old.rowid, old.task_text, old.summary_latest);
    INSERT INTO sessions_fts(rowid, task_text, summary_latest) VALUES (new.rowid, new.task_text, new.summary_latest);
  END;
  `,
];

/**
 * A `query` matching fewer rows than this is answered from the trigram index (cost: the matches);
 * a more common one by walking sessions newest first until `limit` rows match (cost: about
 * limit x sessions / matches rows, so at most limit x sessions / RARE_MATCHES).
 */
const RARE_MATCHES = 500;

export const SCHEMA_VERSION = MIGRATIONS.length;

const LIST_COLUMNS = "session_id, workflow, profile, status, updated_at, summary_latest";

export function openStore(dbPath: string): SessionStore {
  const db = new Database(dbPath);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  migrate(db);
  return new SqliteStore(db);
}

function migrate(db: Database.Database): void {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
  );
  const current = (
    db.prepare("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations").get() as { v: number }
  ).v;
  if (current >= MIGRATIONS.length) return;
  const apply = db.transaction(() => {
    // Re-check inside the write transaction: another process may have migrated meanwhile.
    const v = (
      db.prepare("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations").get() as { v: number }
    ).v;
    for (let i = v; i < MIGRATIONS.length; i++) {
      db.exec(MIGRATIONS[i]);
      db.prepare("INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)").run(
        i + 1,
        new Date().toISOString(),
      );
    }
  });
  apply.immediate();
}

class SqliteStore implements SessionStore {
  private readonly s: ReturnType<SqliteStore["prepare"]>;
  constructor(private readonly db: Database.Database) {
    this.s = this.prepare();
  }

  private prepare() {
    const db = this.db;
    return {
      insertSession: db.prepare(
        `INSERT INTO sessions (session_id, workflow, profile, provider, status, working_directory,
           created_at, updated_at, last_activity_at, request_count, locked_by, lock_expires_at, backend, task_text)
         VALUES (@sessionId, @workflow, @profile, 'claude', 'running', @workingDirectory,
           @now, @now, @now, 1, @owner, @lockExpiresAt, @backend, @taskText)`,
      ),
      acquire: db.prepare(
        `UPDATE sessions SET status = 'running', locked_by = @owner, lock_expires_at = @exp,
           request_count = request_count + 1, updated_at = @now, last_activity_at = @now
         WHERE session_id = @id AND status != 'running'
           AND (locked_by IS NULL OR lock_expires_at IS NULL OR lock_expires_at < @now)`,
      ),
      renew: db.prepare(
        "UPDATE sessions SET lock_expires_at = @exp WHERE session_id = @id AND locked_by = @owner",
      ),
      finish: db.prepare(
        `UPDATE sessions SET status = @status, updated_at = @now, last_activity_at = @now,
           turn_count = turn_count + @turns, summary_latest = COALESCE(@summary, summary_latest),
           provider_session_id = COALESCE(@providerSessionId, provider_session_id),
           input_tokens = input_tokens + @inputTokens, output_tokens = output_tokens + @outputTokens,
           cost_usd = CASE WHEN @costUsd IS NULL THEN cost_usd ELSE COALESCE(cost_usd, 0) + @costUsd END,
           artifact_count = artifact_count + @artifacts, latest_result = @envelope,
           locked_by = NULL, lock_expires_at = NULL
         WHERE session_id = @id AND locked_by = @owner`,
      ),
      insertEvent: db.prepare(
        "INSERT INTO session_events (session_id, event_type, turn_index, payload, created_at) VALUES (?, ?, ?, ?, ?)",
      ),
      insertArtifact: db.prepare(
        `INSERT INTO artifacts (artifact_id, session_id, workflow, profile, artifact_type, logical_name, mime_type,
           path, size_bytes, sha256, created_at, turn_index, producer_tool)
         VALUES (@artifact_id, @session_id, @workflow, @profile, @artifact_type, @logical_name, @mime_type,
           @path, @size_bytes, @sha256, @created_at, @turn_index, @producer_tool)`,
      ),
      get: db.prepare("SELECT * FROM sessions WHERE session_id = ?"),
      running: db.prepare(
        "SELECT session_id, locked_by, lock_expires_at FROM sessions WHERE status = 'running'",
      ),
      interrupt: db.prepare(
        `UPDATE sessions SET status = 'interrupted', updated_at = @now, locked_by = NULL, lock_expires_at = NULL
         WHERE session_id = @id AND status = 'running' AND locked_by IS @lockedBy`,
      ),
      events: db.prepare(
        "SELECT event_id, event_type, turn_index, payload, created_at FROM session_events WHERE session_id = ? ORDER BY event_id",
      ),
      eventsTail: db.prepare(
        `SELECT * FROM (SELECT event_id, event_type, turn_index, payload, created_at FROM session_events
           WHERE session_id = ? ORDER BY event_id DESC LIMIT ?) ORDER BY event_id`,
      ),
      artifact: db.prepare("SELECT * FROM artifacts WHERE artifact_id = ?"),
      artifactsOf: db.prepare(
        "SELECT * FROM artifacts WHERE session_id = ? ORDER BY created_at, artifact_id LIMIT ?",
      ),
      artifactsAll: db.prepare("SELECT * FROM artifacts ORDER BY created_at DESC, artifact_id LIMIT ?"),
      version: db.prepare("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations"),
      count: db.prepare("SELECT COUNT(*) AS n FROM sessions"),
    };
  }

  private insertEvents(sessionId: string, events: NewEvent[], now: string): void {
    for (const e of events) {
      this.s.insertEvent.run(sessionId, e.type, e.turnIndex, JSON.stringify(e.payload), now);
    }
  }

  startNewSession(input: StartRunInput): SessionRecord {
    this.db.transaction(() => {
      this.s.insertSession.run(input);
      this.insertEvents(input.sessionId, input.events, input.now);
    })();
    return this.getSession(input.sessionId)!;
  }

  acquire(
    sessionId: string,
    owner: string,
    lockExpiresAt: string,
    now: string,
    events: NewEvent[],
  ): AcquireResult {
    return this.db
      .transaction((): AcquireResult => {
        const changed = this.s.acquire.run({ id: sessionId, owner, exp: lockExpiresAt, now }).changes;
        const session = this.getSession(sessionId);
        if (!session) return { ok: false, reason: "not_found" };
        if (changed === 0) return { ok: false, reason: "conflict", session };
        this.insertEvents(sessionId, events, now);
        return { ok: true, session };
      })
      .immediate();
  }

  renewLock(sessionId: string, owner: string, lockExpiresAt: string, events: NewEvent[]): boolean {
    return this.db.transaction(() => {
      const ok = this.s.renew.run({ id: sessionId, owner, exp: lockExpiresAt }).changes === 1;
      if (ok && events.length) this.insertEvents(sessionId, events, new Date().toISOString());
      return ok;
    })();
  }

  finishRun(input: FinishRunInput): void {
    this.db.transaction(() => {
      this.insertEvents(input.sessionId, input.events, input.now);
      for (const a of input.artifacts) this.s.insertArtifact.run(a);
      this.s.finish.run({
        id: input.sessionId,
        owner: input.owner,
        status: input.status,
        now: input.now,
        turns: input.turnsAdded,
        summary: input.summary,
        providerSessionId: input.providerSessionId ?? null,
        inputTokens: input.inputTokens,
        outputTokens: input.outputTokens,
        costUsd: input.costUsd,
        artifacts: input.artifacts.length,
        envelope: JSON.stringify(input.envelope),
      });
    })();
  }

  getSession(sessionId: string): SessionRecord | null {
    return (this.s.get.get(sessionId) as SessionRecord | undefined) ?? null;
  }

  listSessions(q: ListQuery): SessionListItem[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.status) {
      where.push("status = ?");
      params.push(q.status);
    }
    if (q.workflow) {
      where.push("workflow = ?");
      params.push(q.workflow);
    }
    let order = "updated_at DESC";
    if (q.query) {
      where.push("(instr(lower(task_text), ?) > 0 OR instr(lower(summary_latest), ?) > 0)");
      const needle = q.query.toLowerCase();
      params.push(needle, needle);
      const phrase = this.rarePhrase(q.query);
      if (phrase) {
        // Candidates from the index, then the exact test above; `+updated_at` keeps the planner
        // from walking the updated_at index instead of looking the few candidates up.
        where.push("rowid IN (SELECT rowid FROM sessions_fts WHERE sessions_fts MATCH ?)");
        params.push(phrase);
        order = "+updated_at DESC";
      }
    }
    const sql = `SELECT ${LIST_COLUMNS} FROM sessions ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY ${order} LIMIT ?`;
    params.push(q.limit);
    return this.cachedStatement(sql).all(...params) as SessionListItem[];
  }

  /**
   * The FTS phrase for `query` when the trigram index can answer it and it is rare (fewer than
   * RARE_MATCHES rows); null otherwise. Only ASCII queries of 3+ characters: the index folds case
   * like lower() does for ASCII, so its candidates always include every exact match.
   */
  private rarePhrase(query: string): string | null {
    if (query.length < 3 || !/^[\x20-\x7e]+$/.test(query)) return null;
    const phrase = `"${query.replace(/"/g, '""')}"`;
    const n = (
      this.cachedStatement(
        "SELECT count(*) AS n FROM (SELECT rowid FROM sessions_fts WHERE sessions_fts MATCH ? LIMIT ?)",
      ).get(phrase, RARE_MATCHES) as { n: number }
    ).n;
    return n < RARE_MATCHES ? phrase : null;
  }

  private readonly stmtCache = new Map<string, Database.Statement>();
  private cachedStatement(sql: string): Database.Statement {
    let st = this.stmtCache.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.stmtCache.set(sql, st);
    }
    return st;
  }

  getEvents(sessionId: string, opts: { limit?: number; types?: string[] } = {}): StoredEvent[] {
    const rows = (
      opts.limit ? this.s.eventsTail.all(sessionId, opts.limit) : this.s.events.all(sessionId)
    ) as (Omit<StoredEvent, "payload"> & { payload: string })[];
    const out: StoredEvent[] = [];
    for (const r of rows) {
      if (opts.types && !opts.types.includes(r.event_type)) continue;
      out.push({ ...r, payload: safeParse(r.payload) });
    }
    return out;
  }

  recover(
    isDead: (lockedBy: string | null, lockExpiresAt: string | null, sessionId: string) => boolean,
    now: string,
  ): string[] {
    const rows = this.s.running.all() as {
      session_id: string;
      locked_by: string | null;
      lock_expires_at: string | null;
    }[];
    const recovered: string[] = [];
    for (const r of rows) {
      if (!isDead(r.locked_by, r.lock_expires_at, r.session_id)) continue;
      this.db.transaction(() => {
        const changed = this.s.interrupt.run({ id: r.session_id, now, lockedBy: r.locked_by }).changes;
        if (changed) {
          this.insertEvents(
            r.session_id,
            [
              {
                type: "session_interrupted",
                turnIndex: 0,
                payload: { reason: "owner_gone", previous_owner: r.locked_by },
              },
            ],
            now,
          );
          recovered.push(r.session_id);
        }
      })();
    }
    return recovered;
  }

  getArtifact(artifactId: string): ArtifactRecord | null {
    return (this.s.artifact.get(artifactId) as ArtifactRecord | undefined) ?? null;
  }

  listArtifacts(sessionId?: string, limit = 100): ArtifactRecord[] {
    return (
      sessionId ? this.s.artifactsOf.all(sessionId, limit) : this.s.artifactsAll.all(limit)
    ) as ArtifactRecord[];
  }

  listArtifactsPage(limit: number, before?: { created_at: string; artifact_id: string }): ArtifactRecord[] {
    if (!before) {
      return this.cachedStatement(
        "SELECT * FROM artifacts ORDER BY created_at DESC, artifact_id DESC LIMIT ?",
      ).all(limit) as ArtifactRecord[];
    }
    return this.cachedStatement(
      `SELECT * FROM artifacts WHERE created_at < @c OR (created_at = @c AND artifact_id < @a)
       ORDER BY created_at DESC, artifact_id DESC LIMIT @limit`,
    ).all({ c: before.created_at, a: before.artifact_id, limit }) as ArtifactRecord[];
  }

  schemaVersion(): number {
    return (this.s.version.get() as { v: number }).v;
  }

  sessionCount(): number {
    return (this.s.count.get() as { n: number }).n;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function safeParse(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" ? v : { value: v };
  } catch {
    return { raw: text };
  }
}
