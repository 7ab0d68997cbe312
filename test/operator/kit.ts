// Shared setup for the operator tests: the built server against the fake Anthropic API in a temp
// state dir, and direct DB seeding for artifacts the server never makes (binary, many, missing).
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { FakeAnthropic } from "../helpers/fake-anthropic.js";
import { type Harness, startServer } from "../helpers/mcp-harness.js";

export function serverEnv(root: string, fake: FakeAnthropic, extra: Record<string, string> = {}) {
  return {
    ANTHROPIC_API_KEY: "sk-operator-test-key",
    ANTHROPIC_BASE_URL: fake.url,
    CLAUDE_AGENT_MCP_MODEL: "claude-fake-model",
    CLAUDE_AGENT_MCP_STATE_DIR: join(root, "state"),
    CLAUDE_AGENT_MCP_ALLOWED_DIRS: root,
    CLAUDE_AGENT_MCP_API_MAX_RETRIES: "0",
    ...extra,
  };
}

export function startOpServer(
  root: string,
  fake: FakeAnthropic,
  extra: Record<string, string> = {},
): Promise<Harness> {
  return startServer({ cwd: root, env: serverEnv(root, fake, extra) });
}

export const dbPath = (root: string) => join(root, "state", "claude-agent-mcp.db");

export interface SeedArtifact {
  artifact_id: string;
  body: Buffer | string | null; // null = record only, no file on disk
  mime?: string;
  name?: string;
  created_at?: string;
}

/** Inserts a session and its artifacts straight into the DB (the schema must already exist). */
export function seedArtifacts(root: string, sessionId: string, artifacts: SeedArtifact[]): void {
  const db = new Database(dbPath(root));
  db.pragma("busy_timeout = 5000");
  const now = new Date().toISOString();
  try {
    db.prepare(
      `INSERT OR IGNORE INTO sessions (session_id, workflow, profile, status, created_at, updated_at, last_activity_at)
       VALUES (?, 'run_task', 'general', 'completed', ?, ?, ?)`,
    ).run(sessionId, now, now, now);
    const dir = join(root, "state", "artifacts", sessionId);
    mkdirSync(dir, { recursive: true });
    const insert = db.prepare(
      `INSERT INTO artifacts (artifact_id, session_id, workflow, profile, artifact_type, logical_name, mime_type,
         path, size_bytes, sha256, created_at, turn_index, producer_tool)
       VALUES (?, ?, 'run_task', 'general', 'output', ?, ?, ?, ?, ?, ?, 1, 'run_task')`,
    );
    for (const a of artifacts) {
      const name = a.name ?? "blob.bin";
      const path = join(dir, `${a.artifact_id}-${name}`);
      const buf = a.body === null ? Buffer.alloc(0) : Buffer.from(a.body);
      if (a.body !== null) writeFileSync(path, buf);
      insert.run(
        a.artifact_id,
        sessionId,
        name,
        a.mime ?? "application/octet-stream",
        path,
        buf.length,
        createHash("sha256").update(buf).digest("hex"),
        a.created_at ?? now,
      );
    }
  } finally {
    db.close();
  }
}
