// Path containment: the one place that decides whether a path may be touched. Every file access in
// the project (workspace tools, attachments, evidence, working directories) resolves its path here
// first and then uses only the returned real path. Containment is decided on real paths (symlinks
// resolved) and component-wise, so `/tmp/ab` is not inside `/tmp/a`, while `/tmp/a` itself is.
import { promises as fs } from "node:fs";
import path from "node:path";

export interface ResolveOptions {
  /** Base for relative paths (usually the session's working directory). */
  cwd: string;
  /** Allowed roots; a path must resolve to one of them or below. */
  roots: string[];
}

export interface ResolvedPath {
  ok: true;
  /** Absolute real path (symlinks resolved; for a missing target, its nearest existing ancestor's). */
  path: string;
  /** The real allowed root that contains it. */
  root: string;
  /** Whether the target exists now. A missing target's parents are created under `root` only. */
  exists: boolean;
}

export type PathDenialCode =
  /** The path (before following symlinks) is outside every allowed root. */
  | "outside_roots"
  /** The path looks inside, but a symbolic link takes it outside. */
  | "symlink_escape"
  /** Empty, NUL bytes, a dangling symlink, a file used as a directory, a symlink loop, no access. */
  | "invalid_path";

export interface PathDenied {
  ok: false;
  code: PathDenialCode;
  reason: string;
}

export type ResolveResult = ResolvedPath | PathDenied;

/** Component-wise containment of two absolute, normalised paths (no filesystem access). */
export function isInside(child: string, root: string): boolean {
  const rel = path.relative(root, child);
  if (rel === "") return true;
  if (path.isAbsolute(rel)) return false;
  return rel !== ".." && !rel.startsWith(`..${path.sep}`);
}

/** Real paths of the roots; a root that does not exist yet is kept as its absolute form. */
export async function realRoots(roots: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of roots) {
    const abs = path.resolve(r);
    const real = await fs.realpath(abs).catch(() => abs);
    if (!out.includes(real)) out.push(real);
  }
  return out;
}

function deny(code: PathDenialCode, reason: string): PathDenied {
  return { ok: false, code, reason };
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Resolve `p` (relative to `cwd`) to a real path inside one of `roots`.
 * Symlinks are followed and the result is checked after following them; a target that does not
 * exist is resolved through its nearest existing ancestor (so write_file can create it). A dangling
 * symlink is refused: writing through it would create a file wherever it points.
 */
export async function resolveInside(p: string, opts: ResolveOptions): Promise<ResolveResult> {
  if (typeof p !== "string" || p.trim() === "") return deny("invalid_path", "Path is empty");
  if (p.includes("\0")) return deny("invalid_path", "Path contains a NUL byte");

  const absRoots = opts.roots.map((r) => path.resolve(r));
  const roots = await realRoots(opts.roots);
  const listed = roots.join(", ") || "(none)";
  const abs = path.resolve(opts.cwd, p);

  const lexicallyInside = absRoots.some((r) => isInside(abs, r)) || roots.some((r) => isInside(abs, r));
  if (!lexicallyInside) {
    return deny("outside_roots", `Path '${p}' is outside the allowed directories (${listed})`);
  }

  // Find the deepest existing ancestor (the path itself when it exists) and its real path.
  let probe = abs;
  const missing: string[] = [];
  let base: string;
  for (;;) {
    try {
      base = await fs.realpath(probe);
      break;
    } catch (err) {
      const code = errCode(err);
      if (code === "ELOOP") return deny("invalid_path", `Path '${p}' has a symbolic link loop`);
      if (code === "EACCES") return deny("invalid_path", `Permission denied resolving '${p}'`);
      if (code !== "ENOENT" && code !== "ENOTDIR") {
        return deny("invalid_path", `Cannot resolve '${p}': ${code ?? String(err)}`);
      }
      const entry = await fs.lstat(probe).catch(() => null);
      if (entry?.isSymbolicLink()) {
        return deny("invalid_path", `Path '${p}' goes through a symbolic link whose target does not exist`);
      }
      const parent = path.dirname(probe);
      if (parent === probe) return deny("invalid_path", `Cannot resolve '${p}'`);
      missing.unshift(path.basename(probe));
      probe = parent;
    }
  }

  if (missing.length > 0) {
    const st = await fs.stat(base).catch(() => null);
    if (!st?.isDirectory()) {
      return deny("invalid_path", `Path '${p}' uses a file as a directory`);
    }
  }
  const resolved = path.join(base, ...missing);
  const root = roots.find((r) => isInside(resolved, r));
  if (!root) {
    return deny(
      "symlink_escape",
      `Path '${p}' goes through a symbolic link that leads outside the allowed directories (${listed})`,
    );
  }
  return { ok: true, path: resolved, root, exists: missing.length === 0 };
}
