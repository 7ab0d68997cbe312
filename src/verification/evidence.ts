// Evidence inspection for agent_verify_task: which evidence paths exist, whether they sit inside
// the allowed directories (real paths, via src/policy/paths.ts), their size and SHA-256, and a
// bounded UTF-8 text of each file for the prompt. Upstream only checked existence and sent path
// strings, which left the api-backend model blind; here the contents are read, within a per-file
// and a total byte budget, and every cut is reported as a warning rather than dropped silently.
import { createHash } from "node:crypto";
import { createReadStream, promises as fs } from "node:fs";
import path from "node:path";
import { resolveInside } from "../policy/paths.js";

export interface EvidenceFile {
  /** The path exactly as the caller gave it. */
  path: string;
  /** Absolute real path (lexical absolute path when it cannot be resolved). */
  resolved: string;
  exists: boolean;
  kind: "file" | "directory" | "other" | null;
  /** Size in bytes (files inside the allowed dirs only; null otherwise). */
  bytes: number | null;
  /** Hex SHA-256 of the whole file (files inside the allowed dirs only; null otherwise). */
  sha256: string | null;
  inside_allowed: boolean;
  /** Why the path is not usable (outside the allowed dirs, symlink escape, ...); null when fine. */
  denial: string | null;
  /** Bounded UTF-8 text for the prompt; null for directories, binary, missing or refused files. */
  text: string | null;
  binary: boolean;
  /** True when `text` holds less than the whole file (per-file or total budget). */
  truncated: boolean;
}

export interface EvidenceInspection {
  files: EvidenceFile[];
  /** Paths (as given) that do not exist: the missing-evidence early fail or warnings. */
  missing: string[];
  /** Existing paths refused by the allowed-dir policy: a policy_denied error. */
  refused: EvidenceFile[];
  /** One warning per file whose contents were cut, omitted, or withheld as binary. */
  warnings: string[];
}

export interface InspectOptions {
  /** Base for relative evidence paths. */
  cwd: string;
  allowedDirs: string[];
  perFileMaxBytes: number;
  totalMaxBytes: number;
}

/** The `evidence` entry of the verify result: what was checked, without contents. */
export interface EvidenceEntry {
  path: string;
  exists: boolean;
  bytes: number | null;
  sha256: string | null;
}

/** Default budgets: enough for typical source/config/log evidence, far below the model's context. */
export const DEFAULT_EVIDENCE_LIMITS = { perFileMaxBytes: 100 * 1024, totalMaxBytes: 400 * 1024 } as const;

const BINARY_SNIFF_BYTES = 8000;

async function sha256Of(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function readHead(file: string, max: number): Promise<Buffer> {
  if (max <= 0) return Buffer.alloc(0);
  const fh = await fs.open(file, "r");
  try {
    const buf = Buffer.alloc(max);
    let filled = 0;
    while (filled < max) {
      const { bytesRead } = await fh.read(buf, filled, max - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buf.subarray(0, filled);
  } finally {
    await fh.close();
  }
}

/** Drop a multi-byte UTF-8 sequence cut in half at the end of a truncated buffer. */
function trimPartialUtf8(buf: Buffer): Buffer {
  let i = buf.length - 1;
  let back = 0;
  while (i >= 0 && back < 3 && (buf[i]! & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i < 0) return buf;
  const lead = buf[i]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return buf.length - i < need ? buf.subarray(0, i) : buf;
}

/** UTF-8 text, or null when the bytes look binary (NUL byte or invalid UTF-8). */
function decodeText(buf: Buffer, cut: boolean): string | null {
  if (buf.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(cut ? trimPartialUtf8(buf) : buf);
  } catch {
    return null;
  }
}

/**
 * Inspect every evidence path in order, sharing one total byte budget for the text given to the
 * model. Nothing outside the allowed directories is opened, hashed or sized: a refused path only
 * reports whether it exists.
 */
export async function inspectEvidence(
  paths: readonly string[],
  opts: InspectOptions,
): Promise<EvidenceInspection> {
  const files: EvidenceFile[] = [];
  const warnings: string[] = [];
  let budget = Math.max(0, opts.totalMaxBytes);

  for (const given of paths) {
    const abs = path.resolve(opts.cwd, given);
    const stat = await fs.stat(abs).catch(() => null);
    const entry: EvidenceFile = {
      path: given,
      resolved: await fs.realpath(abs).catch(() => abs),
      exists: stat !== null,
      kind: stat === null ? null : stat.isFile() ? "file" : stat.isDirectory() ? "directory" : "other",
      bytes: null,
      sha256: null,
      inside_allowed: false,
      denial: null,
      text: null,
      binary: false,
      truncated: false,
    };
    files.push(entry);
    if (!stat) continue;

    const check = await resolveInside(given, { cwd: opts.cwd, roots: opts.allowedDirs });
    if (!check.ok) {
      entry.denial = check.reason;
      continue;
    }
    entry.inside_allowed = true;
    entry.resolved = check.path;
    if (entry.kind !== "file") continue;

    entry.bytes = stat.size;
    entry.sha256 = await sha256Of(check.path);
    const limit = Math.min(opts.perFileMaxBytes, budget);
    const head = await readHead(check.path, Math.min(limit, stat.size));
    const cut = head.length < stat.size;
    const text = decodeText(head, cut);
    if (text === null) {
      entry.binary = true;
      warnings.push(
        `Evidence file ${given} is binary or not UTF-8 (${stat.size} bytes); contents not included`,
      );
      continue;
    }
    entry.text = text;
    entry.truncated = cut;
    budget -= head.length;
    if (cut) {
      warnings.push(
        head.length === 0
          ? `Evidence file ${given} omitted from the prompt: total evidence limit of ${opts.totalMaxBytes} bytes reached`
          : `Evidence file ${given} truncated to ${head.length} of ${stat.size} bytes (${
              limit < opts.perFileMaxBytes ? "total evidence limit" : "per-file limit"
            })`,
      );
    }
  }

  return {
    files,
    missing: files.filter((f) => !f.exists).map((f) => f.path),
    refused: files.filter((f) => f.exists && !f.inside_allowed),
    warnings,
  };
}

/** The per-path evidence list of the verify result (no contents, no local real paths). */
export function evidenceEntries(files: readonly EvidenceFile[]): EvidenceEntry[] {
  return files.map((f) => ({ path: f.path, exists: f.exists, bytes: f.bytes, sha256: f.sha256 }));
}
