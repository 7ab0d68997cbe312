import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Attachment,
  formatAttachmentsForPrompt,
  readAttachments,
} from "../../src/sessions/attachments.js";
import { makeSandbox, type Sandbox } from "./sandbox.js";

let sb: Sandbox;
const opts = () => ({
  cwd: sb.ws,
  allowedDirs: [sb.ws, sb.other],
  perFileMaxBytes: 1000,
  totalMaxBytes: 1500,
});
const sha = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");

beforeAll(async () => {
  sb = await makeSandbox();
});
afterAll(() => sb.cleanup());

describe("readAttachments", () => {
  it("reads text files relative to cwd and in other allowed dirs", async () => {
    const r = await readAttachments(["README.md", path.join(sb.other, "notes.txt")], opts());
    expect(r).toEqual({
      ok: true,
      warnings: [],
      attachments: [
        {
          path: "README.md",
          resolved: path.join(sb.ws, "README.md"),
          bytes: 25,
          sha256: sha("# Demo\n\nHello workspace.\n"),
          text: "# Demo\n\nHello workspace.\n",
          truncated: false,
        },
        expect.objectContaining({
          path: path.join(sb.other, "notes.txt"),
          text: "notes in another allowed dir\n",
        }),
      ],
    });
  });

  it("rejects a missing path with validation_error", async () => {
    expect(await readAttachments(["README.md", "nope.md"], opts())).toEqual({
      ok: false,
      error: { code: "validation_error", message: "Attachment path does not exist: nope.md" },
    });
  });

  it("rejects paths outside the allowed dirs, also through symlinks, with policy_denied", async () => {
    for (const p of [
      "../outside/secret.txt",
      path.join(sb.outside, "secret.txt"),
      "link-passwd",
      "link-etc/passwd",
    ]) {
      const r = await readAttachments([p], opts());
      expect(r, p).toEqual({
        ok: false,
        error: { code: "policy_denied", message: `Attachment '${p}' is outside allowed directories` },
      });
    }
  });

  it("leaves out binary files, directories and FIFOs with a warning", async () => {
    const r = await readAttachments(["image.png", "src", "pipe", "README.md"], opts());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.attachments.map((a) => a.path)).toEqual(["README.md"]);
    expect(r.warnings).toEqual([
      "Attachment 'image.png' is binary or not UTF-8 text (14 bytes); not included",
      expect.stringContaining("Attachment 'src' is a directory; not included"),
      "Attachment 'pipe' is not a regular file (device, FIFO or socket); not included",
    ]);
  });

  it("truncates at the per-file and total caps with warnings, never silently", async () => {
    const big = "a".repeat(1200);
    await fs.writeFile(path.join(sb.ws, "big1.txt"), big);
    await fs.writeFile(path.join(sb.ws, "big2.txt"), big);
    await fs.writeFile(path.join(sb.ws, "big3.txt"), big);
    const r = await readAttachments(["big1.txt", "big2.txt", "big3.txt"], opts());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.attachments.map((a) => [a.text.length, a.truncated, a.bytes])).toEqual([
      [1000, true, 1200],
      [500, true, 1200],
      [0, true, 1200],
    ]);
    expect(r.attachments[0].sha256).toBe(sha(big));
    expect(r.warnings).toEqual([
      "Attachment 'big1.txt' truncated to its first 1000 of 1200 bytes (per-file cap of 1000 bytes)",
      "Attachment 'big2.txt' truncated to its first 500 of 1200 bytes (total attachment cap of 1500 bytes)",
      "Attachment 'big3.txt' (1200 bytes) was left out: the total attachment cap of 1500 bytes is used up",
    ]);
  });

  it("never cuts a multi-byte character in half", async () => {
    await fs.writeFile(path.join(sb.ws, "accents.txt"), "é".repeat(600)); // 1200 bytes
    const r = await readAttachments(["accents.txt"], { ...opts(), perFileMaxBytes: 999 });
    expect(r.ok && r.attachments[0].text).toBe("é".repeat(499));
  });

  it("includes a file listed twice once, with a warning", async () => {
    const r = await readAttachments(["README.md", "./README.md", "readme-link"], opts());
    expect(r.ok && r.attachments.length).toBe(1);
    expect(r.ok && r.warnings).toEqual([
      "Attachment './README.md' is listed more than once; included once",
      "Attachment 'readme-link' is listed more than once; included once",
    ]);
  });
});

describe("formatAttachmentsForPrompt", () => {
  const a: Attachment = {
    path: "a.txt",
    resolved: "/x/a.txt",
    bytes: 6,
    sha256: "abc",
    text: "hello\n",
    truncated: false,
  };

  it("is empty without attachments", () => {
    expect(formatAttachmentsForPrompt([])).toBe("");
  });

  it("wraps each file with its path, size and hash, and marks truncation", () => {
    const cut: Attachment = { ...a, path: "b.txt", bytes: 100, text: "partial", truncated: true };
    expect(formatAttachmentsForPrompt([a, cut])).toBe(
      "The caller attached these 2 files as context for the task:\n\n" +
        '<attachment path="a.txt" bytes="6" sha256="abc">\nhello\n</attachment>\n\n' +
        '<attachment path="b.txt" bytes="100" sha256="abc" truncated="true">\npartial\n' +
        "[truncated: 7 of 100 bytes shown]\n</attachment>",
    );
    expect(formatAttachmentsForPrompt([a])).toMatch(/^The caller attached this file as context/);
  });
});
