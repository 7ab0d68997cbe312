// run_task attachments: the original validated these paths and then ignored them. Here they are
// read (UTF-8 text only, inside the allowed dirs after realpath) and handed to the model as a
// context block ahead of the task. Sizes are capped per file and in total; anything cut or left out
// is named in a warning, never dropped silently.
import { createHash } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import path from "node:path";
import { resolveInside } from "../policy/paths.js";

export interface AttachmentOptions {
  /** Base for relative attachment paths (the session's working directory). */
  cwd: string;
  allowedDirs: string[];
  perFileMaxBytes: number;
  totalMaxBytes: number;
}

export interface Attachment {
  /** The path as given by the caller. */
  path: string;
  /** Its real absolute path. */
  resolved: string;
  /** Size of the whole file. */
  bytes: number;
  /** SHA-256 (hex) of the whole file, not only of the included text. */
  sha256: string;
  /** The included text (the whole file unless truncated). */
  text: string;
  truncated: boolean;
}

export type AttachmentsResult =
  | { ok: true; attachments: Attachment[]; warnings: string[] }
  | { ok: false; error: { code: "validation_error" | "policy_denied"; message: string } };

/**
 * Read the attachments in order. A missing path is a validation_error and a path outside the allowed
 * dirs a policy_denied (first failure wins, as upstream). Directories, special and binary files are
 * left out with a warning; text over the caps is truncated with a warning.
 */
export async function readAttachments(paths: string[], opts: AttachmentOptions): Promise<AttachmentsResult> {
  const attachments: Attachment[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();
  let budget = opts.totalMaxBytes;

  for (const given of paths) {
    // Existence first (upstream's order): a missing path outside the dirs is still "does not exist".
    const abs = path.resolve(opts.cwd, given);
    if (!(await fs.stat(abs).catch(() => null))) {
      return fail("validation_error", `Attachment path does not exist: ${given}`);
    }
    const r = await resolveInside(given, { cwd: opts.cwd, roots: opts.allowedDirs });
    if (!r.ok) {
      return fail(
        r.code === "invalid_path" ? "validation_error" : "policy_denied",
        r.code === "invalid_path"
          ? `Attachment '${given}' is not usable: ${r.reason}`
          : `Attachment '${given}' is outside allowed directories`,
      );
    }
    if (seen.has(r.path)) {
      warnings.push(`Attachment '${given}' is listed more than once; included once`);
      continue;
    }
    seen.add(r.path);

    const st = await fs.stat(r.path);
    if (st.isDirectory()) {
      warnings.push(
        `Attachment '${given}' is a directory; not included (attach files, or let the model list it)`,
      );
      continue;
    }
    if (!st.isFile()) {
      warnings.push(`Attachment '${given}' is not a regular file (device, FIFO or socket); not included`);
      continue;
    }

    const want = Math.min(st.size, opts.perFileMaxBytes, budget);
    const cap =
      opts.perFileMaxBytes <= budget
        ? `per-file cap of ${opts.perFileMaxBytes} bytes`
        : `total attachment cap of ${opts.totalMaxBytes} bytes`;
    const head = await readHead(r.path, want);
    if (head === null) {
      warnings.push(`Attachment '${given}' could not be read; not included`);
      continue;
    }
    const cut = head.length < st.size;
    const text = decodeText(head, cut);
    if (text === null) {
      warnings.push(`Attachment '${given}' is binary or not UTF-8 text (${st.size} bytes); not included`);
      continue;
    }
    const included = Buffer.byteLength(text, "utf8");
    budget -= included;
    if (cut) {
      warnings.push(
        included === 0
          ? `Attachment '${given}' (${st.size} bytes) was left out: the ${cap} is used up`
          : `Attachment '${given}' truncated to its first ${included} of ${st.size} bytes (${cap})`,
      );
    }
    attachments.push({
      path: given,
      resolved: r.path,
      bytes: st.size,
      sha256: await sha256Of(r.path),
      text,
      truncated: cut,
    });
  }
  return { ok: true, attachments, warnings };
}

/** The context block placed before the task in the model's prompt. Empty for no attachments. */
export function formatAttachmentsForPrompt(attachments: Attachment[]): string {
  if (attachments.length === 0) return "";
  const blocks = attachments.map((a) => {
    const attrs = `path="${a.path}" bytes="${a.bytes}" sha256="${a.sha256}"${a.truncated ? ' truncated="true"' : ""}`;
    const included = Buffer.byteLength(a.text, "utf8");
    const note = a.truncated
      ? `${a.text === "" || a.text.endsWith("\n") ? "" : "\n"}[truncated: ${included} of ${a.bytes} bytes shown]\n`
      : a.text.endsWith("\n") || a.text === ""
        ? ""
        : "\n";
    return `<attachment ${attrs}>\n${a.text}${note}</attachment>`;
  });
  const header =
    attachments.length === 1
      ? "The caller attached this file as context for the task:"
      : `The caller attached these ${attachments.length} files as context for the task:`;
  return `${header}\n\n${blocks.join("\n\n")}`;
}

function fail(code: "validation_error" | "policy_denied", message: string): AttachmentsResult {
  return { ok: false, error: { code, message } };
}

/** Up to `length` bytes from the start; opened without following a final symlink or blocking on a FIFO. */
async function readHead(file: string, length: number): Promise<Buffer | null> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    if (!(await fh.stat()).isFile()) return null;
    const buf = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await fh.read(buf, got, length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}

/** UTF-8 text, or null for binary (NUL byte) or non-UTF-8 content. A cut-off last character is dropped. */
function decodeText(buf: Buffer, cut: boolean): string | null {
  if (buf.subarray(0, 8192).includes(0)) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(buf, { stream: cut });
  } catch {
    return null;
  }
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash("sha256");
  const fh = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    for await (const chunk of fh.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
  } finally {
    await fh.close();
  }
  return hash.digest("hex");
}
