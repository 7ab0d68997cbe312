// Artifacts on the MCP surface: agent_list_artifacts, agent_read_artifact (paged, size-capped
// reads), and the same artifacts as MCP resources (`claude-agent-mcp://artifacts/<artifact_id>`).
// Read-only: nothing here writes to the store or the disk. The file path on disk is never returned.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type Resource,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { artifactUri } from "../../sessions/envelope.js";
import type { SessionService } from "../../sessions/session-service.js";
import type { ArtifactRecord, SessionStore } from "../../sessions/store.js";
import { defineTool, intArg, sessionIdArg } from "../tool.js";

/** Largest slice one read returns (agent_read_artifact's max_bytes and resources/read). */
export const MAX_READ_BYTES = 256 * 1024;
export const DEFAULT_READ_BYTES = 64 * 1024;
/** Artifacts per resources/list page. */
export const RESOURCE_PAGE_SIZE = 50;
export const ARTIFACT_URI_PREFIX = "claude-agent-mcp://artifacts/";
/** JSON-RPC code the MCP spec gives "resource not found". */
const RESOURCE_NOT_FOUND = -32002;

const artifactIdArg = () =>
  z
    .string()
    .min(1, "must not be empty")
    .max(128, "must be at most 128 characters")
    .regex(/^[A-Za-z0-9_.-]+$/, "must contain only letters, digits, '_', '-' and '.'");

/** What we say about an artifact: the metadata minus the on-disk path. */
export function artifactMeta(a: ArtifactRecord) {
  return {
    artifact_id: a.artifact_id,
    session_id: a.session_id,
    artifact_type: a.artifact_type,
    logical_name: a.logical_name,
    mime_type: a.mime_type,
    size_bytes: a.size_bytes,
    sha256: a.sha256,
    created_at: a.created_at,
    uri: artifactUri(a.artifact_id),
  };
}

/** MIME types whose bodies are read as UTF-8 text; everything else comes back base64. */
export function isTextMime(mime: string): boolean {
  const m = mime.split(";", 1)[0].trim().toLowerCase();
  return (
    m.startsWith("text/") ||
    m.endsWith("+json") ||
    m.endsWith("+xml") ||
    [
      "application/json",
      "application/xml",
      "application/yaml",
      "application/x-yaml",
      "application/javascript",
      "application/x-ndjson",
      "application/toml",
      "application/sql",
    ].includes(m)
  );
}

export interface Slice {
  content: string;
  encoding: "utf-8" | "base64";
  /** Where the returned bytes start (a text read moves a mid-character offset to the next character). */
  offset: number;
  nextOffset: number;
  eof: boolean;
  /** Bytes of the body on disk. */
  totalBytes: number;
}

export class SliceError extends Error {
  constructor(
    readonly code: "artifact_not_found" | "validation_error",
    message: string,
  ) {
    super(message);
  }
}

const isContinuation = (b: number) => (b & 0xc0) === 0x80;

/**
 * Reads `maxBytes` of a file from `offset`. Text is cut at a UTF-8 character boundary (a character
 * never straddles two reads; a window smaller than one character still returns that character).
 */
export function readSlice(path: string, offset: number, maxBytes: number, text: boolean): Slice {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SliceError(
      "artifact_not_found",
      code === "ENOENT"
        ? "the artifact is recorded but its file is missing from disk"
        : `cannot open the artifact (${code})`,
    );
  }
  try {
    const size = fstatSync(fd).size;
    if (offset > size) {
      throw new SliceError(
        "validation_error",
        `offset: ${offset} is past the end of the artifact (${size} bytes)`,
      );
    }
    // 4 extra bytes on each side let a text read find character boundaries.
    const want = Math.min(maxBytes + 4, size - offset);
    const buf = Buffer.alloc(want);
    let got = 0;
    while (got < want) {
      const n = readSync(fd, buf, got, want - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    const data = buf.subarray(0, got);
    if (!text) {
      const len = Math.min(maxBytes, data.length);
      return {
        content: data.subarray(0, len).toString("base64"),
        encoding: "base64",
        offset,
        nextOffset: offset + len,
        eof: offset + len >= size,
        totalBytes: size,
      };
    }
    let start = 0;
    while (start < 3 && start < data.length && isContinuation(data[start])) start++;
    let end = Math.min(start + maxBytes, data.length);
    if (end < data.length) {
      let e = end;
      while (e > start && isContinuation(data[e])) e--;
      if (e === start) {
        // One character is wider than the window: return it whole so the reader makes progress.
        e = end;
        while (e < data.length && isContinuation(data[e])) e++;
      }
      end = e;
    }
    const from = offset + start;
    const to = offset + end;
    return {
      content: data.subarray(start, end).toString("utf8"),
      encoding: "utf-8",
      offset: from,
      nextOffset: to,
      eof: to >= size,
      totalBytes: size,
    };
  } finally {
    closeSync(fd);
  }
}

const notFound = (id: string) => ({
  error: { code: "artifact_not_found", message: `Artifact not found: ${id}` },
});

export const listArtifacts = defineTool({
  name: "agent_list_artifacts",
  description:
    "Artifacts (outputs, verification reports) of one session or the most recent overall; read with agent_read_artifact or as the resource at `uri`.",
  input: z.object({
    session_id: sessionIdArg().nullish().describe("Only this session's artifacts"),
    limit: intArg(1, 500).default(50).describe("How many artifacts to return"),
  }),
  annotations: { title: "List artifacts", readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  invalid: (message) => ({ error: { code: "validation_error", message } }),
  handle: async (args, ctx) => {
    const store = ctx.service.store;
    if (args.session_id && !store.getSession(args.session_id)) {
      return { error: { code: "session_not_found", message: `Session not found: ${args.session_id}` } };
    }
    return { artifacts: store.listArtifacts(args.session_id ?? undefined, args.limit).map(artifactMeta) };
  },
});

export const readArtifact = defineTool({
  name: "agent_read_artifact",
  description: `Read an artifact's content in pages: up to max_bytes (at most ${MAX_READ_BYTES}) from offset. Text is returned as UTF-8 (never cut inside a character), other types as base64 (see \`encoding\`). Continue from next_offset until eof.`,
  input: z.object({
    artifact_id: artifactIdArg(),
    offset: intArg(0, Number.MAX_SAFE_INTEGER)
      .default(0)
      .describe("Byte offset to start from (next_offset of the previous read)"),
    max_bytes: intArg(1, MAX_READ_BYTES)
      .default(DEFAULT_READ_BYTES)
      .describe(`Most bytes to return (default ${DEFAULT_READ_BYTES}, at most ${MAX_READ_BYTES})`),
  }),
  annotations: { title: "Read an artifact", readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  invalid: (message) => ({ error: { code: "validation_error", message } }),
  handle: async (args, ctx) => {
    const a = ctx.service.store.getArtifact(args.artifact_id);
    if (!a) return notFound(args.artifact_id);
    try {
      const s = readSlice(a.path, args.offset, args.max_bytes, isTextMime(a.mime_type));
      return {
        artifact: artifactMeta(a),
        content: s.content,
        encoding: s.encoding,
        offset: s.offset,
        next_offset: s.nextOffset,
        eof: s.eof,
      };
    } catch (err) {
      if (err instanceof SliceError) {
        const message =
          err.code === "artifact_not_found" ? `Artifact ${a.artifact_id}: ${err.message}` : err.message;
        return { error: { code: err.code, message } };
      }
      throw err;
    }
  },
});

// ---------------------------------------------------------------------------------------------
// MCP resources

function encodeCursor(a: ArtifactRecord): string {
  return Buffer.from(JSON.stringify([a.created_at, a.artifact_id])).toString("base64url");
}

function decodeCursor(cursor: string): { created_at: string; artifact_id: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && typeof v[1] === "string") {
      return { created_at: v[0], artifact_id: v[1] };
    }
  } catch {
    // fall through
  }
  throw new McpError(ErrorCode.InvalidParams, "Invalid cursor");
}

export function artifactResource(a: ArtifactRecord): Resource {
  return {
    uri: artifactUri(a.artifact_id),
    name: a.logical_name,
    title: `${a.logical_name} (${a.artifact_type}, session ${a.session_id})`,
    description: `${a.artifact_type} from ${a.workflow} in session ${a.session_id}, created ${a.created_at}`,
    mimeType: a.mime_type,
    size: a.size_bytes,
  };
}

/** One page of resources/list: newest artifacts first. */
export function listArtifactResources(
  store: SessionStore,
  cursor: string | undefined,
  pageSize = RESOURCE_PAGE_SIZE,
): { resources: Resource[]; nextCursor?: string } {
  const rows = store.listArtifactsPage(pageSize + 1, cursor ? decodeCursor(cursor) : undefined);
  const page = rows.slice(0, pageSize);
  return {
    resources: page.map(artifactResource),
    ...(rows.length > pageSize ? { nextCursor: encodeCursor(page[page.length - 1]) } : {}),
  };
}

/** resources/read of an artifact URI: the body up to MAX_READ_BYTES; `_meta` says when it was cut. */
export function readArtifactResource(store: SessionStore, uri: string) {
  const id = uri.startsWith(ARTIFACT_URI_PREFIX)
    ? decodeURIComponent(uri.slice(ARTIFACT_URI_PREFIX.length))
    : "";
  const a = id ? store.getArtifact(id) : null;
  if (!a) throw new McpError(RESOURCE_NOT_FOUND, `Resource not found: ${uri}`, { uri });
  const text = isTextMime(a.mime_type);
  let s: Slice;
  try {
    s = readSlice(a.path, 0, MAX_READ_BYTES, text);
  } catch (err) {
    if (err instanceof SliceError)
      throw new McpError(RESOURCE_NOT_FOUND, `Resource ${uri}: ${err.message}`, { uri });
    throw err;
  }
  const truncated = !s.eof;
  return {
    contents: [
      {
        uri,
        mimeType: a.mime_type,
        ...(text ? { text: s.content } : { blob: s.content }),
        ...(truncated
          ? {
              _meta: {
                truncated: true,
                size_bytes: s.totalBytes,
                returned_bytes: s.nextOffset,
                next_offset: s.nextOffset,
                hint: `Only the first ${s.nextOffset} of ${s.totalBytes} bytes; read the rest with agent_read_artifact (artifact_id "${a.artifact_id}", offset ${s.nextOffset}).`,
              },
            }
          : {}),
      },
    ],
  };
}

/** Registers resources/list, resources/templates/list and resources/read (needs the `resources` capability). */
export function registerArtifactResources(server: Server, service: SessionService): void {
  server.setRequestHandler(ListResourcesRequestSchema, async (request) =>
    listArtifactResources(service.store, request.params?.cursor),
  );
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [
      {
        uriTemplate: `${ARTIFACT_URI_PREFIX}{artifact_id}`,
        name: "artifact",
        title: "Session artifact",
        description:
          "An artifact saved by a session (run output, verification report). The artifact_id comes from an envelope's artifacts list or agent_list_artifacts.",
      },
    ],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request) =>
    readArtifactResource(service.store, request.params.uri),
  );
}
