// agent_list_artifacts, agent_read_artifact and artifact resources, over stdio with the real SDK
// client against the built server: paging, the 256 KiB cap, UTF-8 boundaries, base64, unknown ids.
import { createHash } from "node:crypto";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeAnthropic, startFakeAnthropic, textReply } from "../helpers/fake-anthropic.js";
import type { Harness, TempDir } from "../helpers/mcp-harness.js";
import { tempStateDir } from "../helpers/mcp-harness.js";
import { seedArtifacts, startOpServer } from "./kit.js";

const CAP = 256 * 1024;
// Multi-byte text (2-, 3- and 4-byte characters), ~300 KB: bigger than one read.
const UNIT = "héllo wörld 漢字 😀 — ";
const BIG = `Big output starts here.\n${UNIT.repeat(Math.ceil(300_000 / Buffer.byteLength(UNIT)))}\nend.`;
const SMALL = "A short but complete answer that is certainly longer than fifty characters.";
const BINARY = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) % 256));
const PAGED = 60;
const OLD = "2021-01-01T00:00:00.000Z";

let fake: FakeAnthropic;
let dir: TempDir;
let h: Harness;
let bigSession: string;
let bigArtifact: string;
let smallArtifact: string;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  dir = await tempStateDir("cam-artifacts-");
  h = await startOpServer(dir.dir, fake);
  fake.enqueue(textReply(BIG));
  const big = await h.call("agent_run_task", { task: "make a big output" });
  expect(big.json.ok).toBe(true);
  bigSession = big.json.session_id;
  bigArtifact = big.json.artifacts[0].artifact_id;
  expect(big.json.artifacts[0].uri).toBe(`claude-agent-mcp://artifacts/${bigArtifact}`);
  fake.enqueue(textReply(SMALL));
  const small = await h.call("agent_run_task", { task: "make a small output" });
  smallArtifact = small.json.artifacts[0].artifact_id;

  // Artifacts the server never makes itself: binary, a record whose file is gone, and many old ones.
  seedArtifacts(dir.dir, "sess_seeded", [
    {
      artifact_id: "art_binary",
      body: BINARY,
      mime: "application/octet-stream",
      name: "data.bin",
      created_at: OLD,
    },
    { artifact_id: "art_gone", body: null, mime: "text/plain", name: "gone.txt", created_at: OLD },
    ...Array.from({ length: PAGED }, (_, i) => ({
      artifact_id: `art_old_${String(i).padStart(3, "0")}`,
      body: `old ${i}`,
      mime: "text/plain",
      name: `old-${i}.txt`,
      created_at: `2020-01-01T00:00:${String(i % 60).padStart(2, "0")}.000Z`,
    })),
  ]);
}, 60_000);

afterAll(async () => {
  await h?.close();
  await fake.close();
  await dir?.cleanup();
});

describe("agent_list_artifacts", () => {
  it("lists one session's artifacts with metadata and a resource uri, never the path", async () => {
    const r = await h.call("agent_list_artifacts", { session_id: bigSession });
    expect(r.isError).toBe(false);
    expect(r.structuredContent).toEqual(r.json);
    expect(r.json.artifacts).toHaveLength(1);
    const a = r.json.artifacts[0];
    expect(a).toEqual({
      artifact_id: bigArtifact,
      session_id: bigSession,
      artifact_type: "output",
      logical_name: "output.txt",
      mime_type: "text/plain",
      size_bytes: Buffer.byteLength(BIG),
      sha256: createHash("sha256").update(BIG).digest("hex"),
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      uri: `claude-agent-mcp://artifacts/${bigArtifact}`,
    });
  });

  it("lists recent artifacts across sessions, newest first, bounded by limit", async () => {
    const r = await h.call("agent_list_artifacts", { limit: 3 });
    expect(r.json.artifacts).toHaveLength(3);
    const all = await h.call("agent_list_artifacts", { limit: 500 });
    expect(all.json.artifacts).toHaveLength(PAGED + 4);
    const times = all.json.artifacts.map((a: { created_at: string }) => a.created_at);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it("rejects bad arguments and unknown sessions in its own error shape", async () => {
    const bad = await h.call("agent_list_artifacts", { limit: 0 });
    expect(bad.isError).toBe(true);
    expect(bad.json.error.code).toBe("validation_error");
    expect(bad.json.error.message).toMatch(/limit/);
    const unknown = await h.call("agent_list_artifacts", { session_id: "sess_nope" });
    expect(unknown.isError).toBe(true);
    expect(unknown.json.error.code).toBe("session_not_found");
  });

  it("is annotated read-only and idempotent, with an output schema", async () => {
    const { tools } = await h.client.listTools();
    for (const name of ["agent_list_artifacts", "agent_read_artifact"]) {
      const t = tools.find((x) => x.name === name)!;
      expect(t).toBeDefined();
      expect(t.annotations).toMatchObject({ readOnlyHint: true, idempotentHint: true });
      expect(t.outputSchema?.type).toBe("object");
    }
  });
});

describe("agent_read_artifact", () => {
  it("reads a small text artifact in one call", async () => {
    const r = await h.call("agent_read_artifact", { artifact_id: smallArtifact });
    expect(r.isError).toBe(false);
    expect(r.json).toMatchObject({
      content: SMALL,
      encoding: "utf-8",
      offset: 0,
      next_offset: Buffer.byteLength(SMALL),
      eof: true,
    });
    expect(r.json.artifact.artifact_id).toBe(smallArtifact);
  });

  it("pages through a large multi-byte artifact without splitting a character", async () => {
    const first = await h.call("agent_read_artifact", { artifact_id: bigArtifact });
    expect(Buffer.byteLength(first.json.content)).toBeLessThanOrEqual(64 * 1024); // default page
    expect(first.json.eof).toBe(false);

    let offset = 0;
    let text = "";
    let calls = 0;
    for (;;) {
      const r = await h.call("agent_read_artifact", { artifact_id: bigArtifact, offset, max_bytes: 99_999 });
      expect(r.isError).toBe(false);
      expect(r.json.offset).toBe(offset);
      expect(r.json.content).not.toContain("\uFFFD");
      const bytes = Buffer.byteLength(r.json.content);
      expect(bytes).toBeLessThanOrEqual(99_999);
      expect(r.json.next_offset).toBe(offset + bytes);
      text += r.json.content;
      offset = r.json.next_offset;
      calls++;
      if (r.json.eof) break;
      expect(calls).toBeLessThan(10);
    }
    expect(text).toBe(BIG);
    expect(calls).toBeGreaterThanOrEqual(Math.ceil(Buffer.byteLength(BIG) / 99_999));
  });

  it("caps a read at 256 KiB and refuses a larger max_bytes", async () => {
    const r = await h.call("agent_read_artifact", { artifact_id: bigArtifact, max_bytes: CAP });
    expect(Buffer.byteLength(r.json.content)).toBeLessThanOrEqual(CAP);
    expect(Buffer.byteLength(r.json.content)).toBeGreaterThan(CAP - 4);
    expect(r.json.eof).toBe(false);
    const over = await h.call("agent_read_artifact", { artifact_id: bigArtifact, max_bytes: CAP + 1 });
    expect(over.isError).toBe(true);
    expect(over.json.error.code).toBe("validation_error");
    expect(over.json.error.message).toMatch(/max_bytes/);
  });

  it("moves a mid-character offset to the next character and returns a whole character for a tiny window", async () => {
    const prefix = Buffer.byteLength("Big output starts here.\nh"); // next is "é" (2 bytes)
    const mid = await h.call("agent_read_artifact", {
      artifact_id: bigArtifact,
      offset: prefix + 1,
      max_bytes: 5,
    });
    expect(mid.json.offset).toBe(prefix + 2);
    expect(mid.json.content).toBe("llo w");
    const emojiAt = Buffer.from(BIG).indexOf(Buffer.from("😀"));
    const one = await h.call("agent_read_artifact", {
      artifact_id: bigArtifact,
      offset: emojiAt,
      max_bytes: 1,
    });
    expect(one.json.content).toBe("😀");
    expect(one.json.next_offset).toBe(emojiAt + 4);
    const cut = await h.call("agent_read_artifact", {
      artifact_id: bigArtifact,
      offset: emojiAt - 1,
      max_bytes: 3,
    });
    expect(cut.json.content).toBe(" ");
    expect(cut.json.next_offset).toBe(emojiAt);
  });

  it("returns binary artifacts as base64, paged", async () => {
    const a = await h.call("agent_read_artifact", { artifact_id: "art_binary", max_bytes: 600 });
    expect(a.json.encoding).toBe("base64");
    expect(a.json.eof).toBe(false);
    expect(a.json.next_offset).toBe(600);
    const b = await h.call("agent_read_artifact", { artifact_id: "art_binary", offset: 600, max_bytes: 600 });
    expect(b.json.eof).toBe(true);
    expect(b.json.next_offset).toBe(1000);
    expect(
      Buffer.concat([Buffer.from(a.json.content, "base64"), Buffer.from(b.json.content, "base64")]),
    ).toEqual(BINARY);
  });

  it("reads at the end as empty, and refuses an offset past the end", async () => {
    const end = await h.call("agent_read_artifact", { artifact_id: "art_binary", offset: 1000 });
    expect(end.json).toMatchObject({ content: "", offset: 1000, next_offset: 1000, eof: true });
    const past = await h.call("agent_read_artifact", { artifact_id: "art_binary", offset: 1001 });
    expect(past.isError).toBe(true);
    expect(past.json.error).toMatchObject({ code: "validation_error" });
    expect(past.json.error.message).toMatch(/offset/);
  });

  it("unknown ids, missing files and bad ids are errors in the tool's shape", async () => {
    const unknown = await h.call("agent_read_artifact", { artifact_id: "art_nope" });
    expect(unknown.isError).toBe(true);
    expect(unknown.json).toEqual({
      error: { code: "artifact_not_found", message: "Artifact not found: art_nope" },
    });
    const gone = await h.call("agent_read_artifact", { artifact_id: "art_gone" });
    expect(gone.isError).toBe(true);
    expect(gone.json.error.code).toBe("artifact_not_found");
    expect(gone.json.error.message).toMatch(/missing from disk/);
    expect(gone.text).not.toContain(dir.dir); // the on-disk path is never returned
    const bad = await h.call("agent_read_artifact", { artifact_id: "../../etc/passwd" });
    expect(bad.json.error.code).toBe("validation_error");
    expect(bad.json.error.message).toMatch(/artifact_id/);
    const missing = await h.call("agent_read_artifact", {});
    expect(missing.json.error).toMatchObject({
      code: "validation_error",
      message: "artifact_id: is required",
    });
  });
});

describe("artifact resources", () => {
  it("declares the resources capability and a URI template", async () => {
    expect(h.client.getServerCapabilities()?.resources).toBeDefined();
    const t = await h.client.listResourceTemplates();
    expect(t.resourceTemplates[0].uriTemplate).toBe("claude-agent-mcp://artifacts/{artifact_id}");
  });

  it("lists artifacts newest first, paginated by cursor, each exactly once", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await h.client.listResources(cursor ? { cursor } : {});
      pages++;
      expect(page.resources.length).toBeLessThanOrEqual(50);
      for (const r of page.resources) {
        expect(r.uri).toMatch(/^claude-agent-mcp:\/\/artifacts\//);
        seen.push(r.uri);
      }
      cursor = page.nextCursor;
    } while (cursor && pages < 10);
    expect(pages).toBe(2);
    expect(seen).toHaveLength(PAGED + 4);
    expect(new Set(seen).size).toBe(seen.length);
    const first = (await h.client.listResources()).resources;
    expect(first[0].uri).toBe(`claude-agent-mcp://artifacts/${smallArtifact}`);
    expect(first[0]).toMatchObject({
      name: "output.txt",
      mimeType: "text/plain",
      size: Buffer.byteLength(SMALL),
    });
  });

  it("rejects a garbage cursor", async () => {
    await expect(h.client.listResources({ cursor: "not-a-cursor" })).rejects.toThrow(/cursor/i);
  });

  it("reads text, binary (blob) and a large artifact cut at 256 KiB with a _meta note", async () => {
    const small = await h.client.readResource({ uri: `claude-agent-mcp://artifacts/${smallArtifact}` });
    expect(small.contents[0]).toMatchObject({ mimeType: "text/plain", text: SMALL });
    expect(small.contents[0]._meta).toBeUndefined();

    const bin = await h.client.readResource({ uri: "claude-agent-mcp://artifacts/art_binary" });
    expect(Buffer.from(String((bin.contents[0] as { blob?: string }).blob), "base64")).toEqual(BINARY);

    const big = await h.client.readResource({ uri: `claude-agent-mcp://artifacts/${bigArtifact}` });
    const text = String((big.contents[0] as { text?: string }).text);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(CAP);
    expect(BIG.startsWith(text)).toBe(true);
    expect(big.contents[0]._meta).toMatchObject({
      truncated: true,
      size_bytes: Buffer.byteLength(BIG),
      next_offset: Buffer.byteLength(text),
    });
  });

  it("unknown and malformed URIs are resource-not-found errors", async () => {
    for (const uri of [
      "claude-agent-mcp://artifacts/art_nope",
      "claude-agent-mcp://sessions/x",
      "file:///etc/passwd",
    ]) {
      const err = await h.client.readResource({ uri }).catch((e) => e);
      expect(err).toBeInstanceOf(McpError);
      expect((err as McpError).code).toBe(-32002);
    }
  });
});
