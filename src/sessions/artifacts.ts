// Artifact bodies on disk: <artifact_dir>/<session_id>/<artifact_id>-<safe name>. Metadata goes to
// the store in the run's closing transaction. Oversized bodies are cut to the cap with a warning.
import { createHash, randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ArtifactRecord } from "./store.js";

export interface ArtifactDraft {
  sessionId: string;
  workflow: string;
  profile: string;
  type: string;
  name: string;
  mime: string;
  body: string;
  turnIndex: number;
  producer: string;
}

export class ArtifactWriter {
  /** Session directories already created by this process (one mkdir per session, not per write). */
  private readonly madeDirs = new Set<string>();
  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  write(d: ArtifactDraft): { record: ArtifactRecord; warning?: string } {
    let buf = Buffer.from(d.body, "utf8");
    let warning: string | undefined;
    if (buf.length > this.maxBytes) {
      warning = `Artifact ${d.name} was cut from ${buf.length} to ${this.maxBytes} bytes (CLAUDE_AGENT_MCP_MAX_ARTIFACT_BYTES)`;
      buf = buf.subarray(0, this.maxBytes);
    }
    const artifactId = `art_${randomUUID().replace(/-/g, "").slice(0, 16)}`;
    const safe = d.name.replace(/\.\./g, "_").replace(/[/\\]/g, "_");
    const sessionDir = join(this.dir, d.sessionId);
    if (!this.madeDirs.has(sessionDir)) {
      mkdirSync(sessionDir, { recursive: true });
      this.madeDirs.add(sessionDir);
    }
    const path = join(sessionDir, `${artifactId}-${safe}`);
    writeFileSync(path, buf);
    return {
      record: {
        artifact_id: artifactId,
        session_id: d.sessionId,
        workflow: d.workflow,
        profile: d.profile,
        artifact_type: d.type,
        logical_name: d.name,
        mime_type: d.mime,
        path,
        size_bytes: buf.length,
        sha256: createHash("sha256").update(buf).digest("hex"),
        created_at: new Date().toISOString(),
        turn_index: d.turnIndex,
        producer_tool: d.producer,
      },
      warning,
    };
  }
}
