// Built-in workspace tools for the api backend: read_file, list_directory, search_files, and for
// profiles that may write, write_file and edit_file. They are the model's only way to touch the
// filesystem, so each one resolves every path through policy/paths.ts (real paths, component-wise
// containment in the working directory and allowed dirs), opens files without following a final
// symlink, refuses devices/FIFOs/sockets, and caps what it reads and writes. User mistakes come back
// as tool errors with a clear message; nothing here throws for them.
import { constants, promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { z } from "zod";
import { isInside, realRoots, resolveInside } from "../../policy/paths.js";
import type { AgentTool, ToolContext, ToolOutcome } from "../backend.js";

export interface WorkspaceLimits {
  /** Most bytes of file text one read_file call returns; whole-file reads of bigger files are refused. */
  maxReadBytes: number;
  /** Largest file write_file writes and edit_file edits (before and after the edit). */
  maxWriteBytes: number;
  /** Most entries one list_directory call returns. */
  maxListEntries: number;
  /** Deepest recursion list_directory accepts. */
  maxListDepth: number;
  /** Most results (paths or matching lines) one search_files call returns. */
  maxSearchResults: number;
  /** Files larger than this are skipped by content search. */
  maxSearchFileBytes: number;
  /** Most directory entries one search_files call walks. */
  maxSearchEntries: number;
  /** Wall-clock budget of one content search (a pathological regex is stopped, not waited for). */
  searchTimeoutMs: number;
}

export const DEFAULT_WORKSPACE_LIMITS: Readonly<WorkspaceLimits> = Object.freeze({
  maxReadBytes: 256 * 1024,
  maxWriteBytes: 2 * 1024 * 1024,
  maxListEntries: 500,
  maxListDepth: 5,
  maxSearchResults: 100,
  maxSearchFileBytes: 1024 * 1024,
  maxSearchEntries: 20_000,
  searchTimeoutMs: 10_000,
});

export interface WorkspaceToolsOptions {
  workingDirectory: string;
  allowedDirs: string[];
  readOnly: boolean;
  limits?: Partial<WorkspaceLimits>;
}

/** Directories listed but never descended into by list_directory depth > 1 and search_files. */
const UNEXPANDED_DIRS = new Set([".git", "node_modules"]);
const BINARY_SAMPLE_BYTES = 8192;
const CHUNK_BYTES = 64 * 1024;
const MAX_MATCH_LINE_CHARS = 240;

interface Workspace {
  cwd: string;
  roots: string[];
  limits: WorkspaceLimits;
}

/** The tools for one run. A read-only set does not contain write_file or edit_file at all. */
export function createWorkspaceTools(opts: WorkspaceToolsOptions): AgentTool[] {
  const ws: Workspace = {
    cwd: opts.workingDirectory,
    roots: [opts.workingDirectory, ...opts.allowedDirs],
    limits: { ...DEFAULT_WORKSPACE_LIMITS, ...opts.limits },
  };
  const tools = [readFileTool(ws), listDirectoryTool(ws), searchFilesTool(ws)];
  if (!opts.readOnly) tools.push(writeFileTool(ws), editFileTool(ws));
  return tools;
}

/**
 * Call a tool of `tools` by name. A name that is not in the set (a write tool forged against a
 * read-only set, a typo) is a tool error, not an exception; so is anything a tool throws.
 */
export async function callWorkspaceTool(
  tools: AgentTool[],
  name: string,
  input: unknown,
  ctx: ToolContext,
): Promise<ToolOutcome> {
  const tool = tools.find((t) => t.name === name);
  if (!tool) {
    const available = tools.map((t) => t.name).join(", ") || "none";
    return {
      content: `Error: tool '${name}' is not available for this profile (available: ${available})`,
      isError: true,
      audit: { ok: false },
    };
  }
  try {
    return await tool.call(input, ctx);
  } catch (err) {
    return {
      content: `Error: ${name} failed: ${err instanceof Error ? err.message : String(err)}`,
      isError: true,
      audit: { ok: false },
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

function success(content: string, audit: { path: string; bytes: number }): ToolOutcome {
  return { content, isError: false, audit: { ...audit, ok: true } };
}

function failure(message: string, auditPath?: string): ToolOutcome {
  return {
    content: `Error: ${message}`,
    isError: true,
    audit: { ...(auditPath !== undefined ? { path: auditPath } : {}), bytes: 0, ok: false },
  };
}

const schemaCache = new WeakMap<z.ZodType, Record<string, unknown>>();

/**
 * JSON Schema for the model, without `$schema` and zod's MAX_SAFE_INTEGER bounds on integers.
 * Computed once per schema: the schemas are static and every run's tool set needs them.
 */
function inputSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const cached = schemaCache.get(schema);
  if (cached) return cached;
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: "input" }) as Record<string, unknown>;
  schemaCache.set(schema, rest);
  for (const prop of Object.values((rest.properties ?? {}) as Record<string, Record<string, unknown>>)) {
    if (prop.maximum === Number.MAX_SAFE_INTEGER) delete prop.maximum;
  }
  return rest;
}

/** 262144 -> "256 KiB" for descriptions and messages the model reads. */
function size(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

function parseInput<T>(tool: string, schema: z.ZodType<T>, input: unknown): T | string {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const at = i.path.length ? `${i.path.join(".")}: ` : "";
    return `${at}${i.message}`;
  });
  return `invalid input for ${tool}: ${problems.join("; ")}`;
}

/**
 * How real paths are shown to the model and in audit: relative to the working directory when inside
 * it, else absolute. Returned as a function so a search resolves the working directory once.
 */
async function pathViewer(ws: Workspace): Promise<(real: string) => string> {
  const [cwd] = await realRoots([ws.cwd]);
  return (real) => (isInside(real, cwd) ? path.relative(cwd, real) || "." : real);
}

type Resolved = { real: string; shown: string; exists: boolean; root: string };

async function resolve(ws: Workspace, p: string): Promise<Resolved | string> {
  const r = await resolveInside(p, { cwd: ws.cwd, roots: ws.roots });
  if (!r.ok) return r.reason;
  const view = await pathViewer(ws);
  return { real: r.path, shown: view(r.path), exists: r.exists, root: r.root };
}

function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return "directory";
  if (st.isFIFO()) return "FIFO";
  if (st.isSocket()) return "socket";
  return "device or special file";
}

/** Open an existing regular file for reading, without following a final symlink or blocking on a FIFO. */
async function openRegularFile(r: Resolved): Promise<{ fh: FileHandle; size: number } | string> {
  const st = await fs.stat(r.real).catch(() => null);
  if (!st) return `file not found: ${r.shown}`;
  if (st.isDirectory()) return `'${r.shown}' is a directory; use list_directory`;
  if (!st.isFile()) return `'${r.shown}' is a ${kindOf(st)}, not a regular file; refused`;
  let fh: FileHandle;
  try {
    fh = await fs.open(r.real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    return `cannot open '${r.shown}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
  const fst = await fh.stat();
  if (!fst.isFile() || fst.ino !== st.ino || fst.dev !== st.dev) {
    await fh.close();
    return `'${r.shown}' changed while it was being opened; refused`;
  }
  return { fh, size: fst.size };
}

/** Binary = a NUL byte in the sample, or bytes that are not UTF-8 (a cut-off last character is fine). */
export function looksBinary(sample: Uint8Array): boolean {
  if (sample.includes(0)) return true;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(sample, { stream: true });
    return false;
  } catch {
    return true;
  }
}

async function readRange(fh: FileHandle, start: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, start + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** Length of `buf` without a UTF-8 character cut off at its end. */
function utf8Boundary(buf: Buffer): number {
  let i = buf.length - 1;
  let back = 0;
  while (i >= 0 && back < 4 && (buf[i] & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i < 0) return buf.length;
  const lead = buf[i];
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return buf.length - i >= need ? buf.length : i;
}

function countLines(text: string): number {
  if (text === "") return 0;
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return text.endsWith("\n") ? n : n + 1;
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

// ---------------------------------------------------------------------------------------------
// read_file

const ReadFileInput = z.object({
  path: z.string().min(1).describe("File path, relative to the working directory or absolute"),
  offset: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe("Lines (or bytes, with unit='bytes') to skip before reading; default 0"),
  limit: z.number().int().min(1).optional().describe("Most lines (or bytes) to return"),
  unit: z.enum(["lines", "bytes"]).default("lines").describe("Unit of offset and limit"),
});

function readFileTool(ws: Workspace): AgentTool {
  const cap = ws.limits.maxReadBytes;
  return {
    name: "read_file",
    description:
      `Read a UTF-8 text file in the workspace. Files up to ${size(cap)} are returned whole; read bigger ` +
      "ones in parts with offset/limit (in lines, or bytes with unit='bytes'). Binary files are reported, not shown.",
    inputSchema: inputSchemaOf(ReadFileInput),
    readOnly: true,
    source: "workspace",
    async call(input, ctx) {
      const args = parseInput("read_file", ReadFileInput, input);
      if (typeof args === "string") return failure(args);
      if (ctx.signal.aborted) return failure("cancelled");
      const r = await resolve(ws, args.path);
      if (typeof r === "string") return failure(r, args.path);
      if (!r.exists) return failure(`file not found: ${r.shown}`, r.shown);
      const opened = await openRegularFile(r);
      if (typeof opened === "string") return failure(opened, r.shown);
      const { fh, size } = opened;
      try {
        if (looksBinary(await readRange(fh, 0, Math.min(size, BINARY_SAMPLE_BYTES)))) {
          return success(`'${r.shown}' is a binary file (${size} bytes); its contents are not shown.`, {
            path: r.shown,
            bytes: 0,
          });
        }
        return args.unit === "bytes"
          ? await readBytes(fh, size, r.shown, args.offset ?? 0, args.limit, cap)
          : await readLines(fh, size, r.shown, args.offset, args.limit, cap, ctx.signal);
      } finally {
        await fh.close();
      }
    },
  };
}

async function readBytes(
  fh: FileHandle,
  size: number,
  shown: string,
  offset: number,
  limit: number | undefined,
  cap: number,
): Promise<ToolOutcome> {
  if (offset > size) return failure(`offset ${offset} is past the end of '${shown}' (${size} bytes)`, shown);
  const want = Math.min(limit ?? cap, cap, size - offset);
  let buf = await readRange(fh, offset, want);
  if (offset + buf.length < size) buf = buf.subarray(0, utf8Boundary(buf));
  const end = offset + buf.length;
  let text = buf.toString("utf8");
  if (offset > 0 || end < size) {
    const capped = limit !== undefined && limit > cap ? ` (limit capped at ${cap} bytes)` : "";
    const next = end < size ? `; continue with offset=${end} unit="bytes"` : "; end of file";
    text += `\n[bytes ${offset}-${end} of ${size} in ${shown}${capped}${next}]`;
  }
  return success(text, { path: shown, bytes: buf.length });
}

async function readLines(
  fh: FileHandle,
  size: number,
  shown: string,
  offset: number | undefined,
  limit: number | undefined,
  cap: number,
  signal: AbortSignal,
): Promise<ToolOutcome> {
  if (offset === undefined && limit === undefined) {
    if (size > cap) {
      return failure(
        `'${shown}' is ${size} bytes, more than the ${cap}-byte read cap; read it in parts with offset and ` +
          `limit (lines), or with unit="bytes"`,
        shown,
      );
    }
    const text = (await readRange(fh, 0, size)).toString("utf8");
    return success(text === "" ? `(${shown} is empty)` : text, { path: shown, bytes: size });
  }

  // Scan for line ends: find where line `skip` starts, then take up to `limit` lines within the cap.
  const skip = offset ?? 0;
  const buf = Buffer.alloc(CHUNK_BYTES);
  let linesSeen = 0;
  let nlEnd = 0;
  let start = skip === 0 ? 0 : -1;
  let lastEnd = start;
  let taken = 0;
  let end = -1;
  let cappedByBytes = false;
  let pos = 0;
  while (pos < size && end < 0) {
    if (signal.aborted) return failure("cancelled", shown);
    const { bytesRead } = await fh.read(buf, 0, CHUNK_BYTES, pos);
    if (bytesRead === 0) break;
    for (let i = 0; i < bytesRead && end < 0; i++) {
      if (buf[i] !== 10) continue;
      const after = pos + i + 1;
      if (start < 0) {
        nlEnd = after;
        if (++linesSeen === skip) start = lastEnd = after;
        continue;
      }
      if (after - start > cap) {
        cappedByBytes = true;
        end = lastEnd > start ? lastEnd : start + cap;
      } else {
        lastEnd = after;
        if (++taken === limit) end = after;
      }
    }
    pos += bytesRead;
    if (end < 0 && start >= 0 && pos - start > cap) {
      cappedByBytes = true;
      end = lastEnd > start ? lastEnd : start + cap;
    }
  }
  if (start < 0 || (start >= size && skip > 0)) {
    const total = linesSeen + (nlEnd < size ? 1 : 0);
    return failure(`offset ${skip} is past the end of '${shown}' (${plural(total, "line")})`, shown);
  }
  if (end < 0) end = size;

  let bytes = await readRange(fh, start, end - start);
  if (end < size) bytes = bytes.subarray(0, utf8Boundary(bytes));
  end = start + bytes.length;
  let text = bytes.toString("utf8");
  if (size === 0) return success(`(${shown} is empty)`, { path: shown, bytes: 0 });
  const shownLines = countLines(text);
  if (skip > 0 || end < size) {
    const range = shownLines > 0 ? `lines ${skip + 1}-${skip + shownLines}` : "no complete lines";
    const why = cappedByBytes ? ` (stopped at the ${cap}-byte read cap)` : "";
    const next =
      end >= size
        ? "; end of file"
        : text.endsWith("\n")
          ? `; continue with offset=${skip + shownLines}`
          : `; the last line continues: read on with offset=${end} unit="bytes"`;
    text += `${text.endsWith("\n") || text === "" ? "" : "\n"}[${range} of ${shown} (${size} bytes)${why}${next}]`;
  }
  return success(text, { path: shown, bytes: bytes.length });
}

// ---------------------------------------------------------------------------------------------
// list_directory

const ListDirectoryInput = z.object({
  path: z.string().min(1).default(".").describe("Directory path; default the working directory"),
  depth: z.number().int().min(1).optional().describe("Levels to descend; default 1 (just this directory)"),
});

function listDirectoryTool(ws: Workspace): AgentTool {
  const { maxListEntries, maxListDepth } = ws.limits;
  return {
    name: "list_directory",
    description:
      `List a workspace directory: each entry with its type and size (directories end with '/'). ` +
      `Optional depth (up to ${maxListDepth}) lists subdirectories too; at most ${maxListEntries} entries.`,
    inputSchema: inputSchemaOf(ListDirectoryInput),
    readOnly: true,
    source: "workspace",
    async call(input, ctx) {
      const args = parseInput("list_directory", ListDirectoryInput, input);
      if (typeof args === "string") return failure(args);
      const r = await resolve(ws, args.path);
      if (typeof r === "string") return failure(r, args.path);
      if (!r.exists) return failure(`directory not found: ${r.shown}`, r.shown);
      const st = await fs.stat(r.real);
      if (!st.isDirectory()) return failure(`'${r.shown}' is not a directory; use read_file`, r.shown);
      const depth = Math.min(args.depth ?? 1, maxListDepth);
      const lines: string[] = [];
      let truncated = false;

      const walk = async (dir: string, level: number): Promise<void> => {
        if (ctx.signal.aborted) return;
        let names: string[];
        try {
          names = (await fs.readdir(dir)).sort();
        } catch (err) {
          lines.push(
            `${path.relative(r.real, dir) || "."}/  (unreadable: ${(err as NodeJS.ErrnoException).code})`,
          );
          return;
        }
        for (const name of names) {
          if (lines.length >= maxListEntries) {
            truncated = true;
            return;
          }
          const full = path.join(dir, name);
          const rel = path.relative(r.real, full);
          const e = await fs.lstat(full).catch(() => null);
          if (!e) continue; // vanished while listing
          if (e.isSymbolicLink()) {
            lines.push(`${rel} -> ${await describeLink(ws, full)}`);
          } else if (e.isDirectory()) {
            const expand = level < depth && !UNEXPANDED_DIRS.has(name);
            lines.push(`${rel}/${level < depth && !expand ? "  (not expanded)" : ""}`);
            if (expand) await walk(full, level + 1);
          } else if (e.isFile()) {
            lines.push(`${rel}  (${e.size} bytes)`);
          } else {
            lines.push(`${rel}  (${kindOf(e)})`);
          }
        }
      };
      await walk(r.real, 1);
      if (ctx.signal.aborted) return failure("cancelled", r.shown);

      const header = `Directory ${r.shown} (${plural(lines.length, "entry", "entries")}${depth > 1 ? `, depth ${depth}` : ""}):`;
      const body = lines.length ? lines.join("\n") : "(empty)";
      const footer = truncated
        ? `\n[listing stopped at ${maxListEntries} entries; list a subdirectory or use a smaller depth]`
        : "";
      return success(`${header}\n${body}${footer}`, { path: r.shown, bytes: 0 });
    },
  };
}

/** "target (symlink)" or "target (symlink, outside the allowed directories)"; never followed here. */
async function describeLink(ws: Workspace, link: string): Promise<string> {
  const target = await fs.readlink(link).catch(() => "?");
  const real = await fs.realpath(link).catch(() => null);
  if (real === null) return `${target}  (symlink, broken)`;
  const roots = await realRoots(ws.roots);
  return roots.some((root) => isInside(real, root))
    ? `${target}  (symlink)`
    : `${target}  (symlink, outside the allowed directories)`;
}

// ---------------------------------------------------------------------------------------------
// search_files

const SearchFilesInput = z.object({
  path: z
    .string()
    .min(1)
    .default(".")
    .describe("Directory (or file) to search; default the working directory"),
  name: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Glob on file names, e.g. '*.ts' (matched against the name) or 'src/**/*.test.ts' (against the path)",
    ),
  content: z
    .string()
    .min(1)
    .optional()
    .describe("Text to find inside files (a literal unless regex is true)"),
  regex: z.boolean().default(false).describe("Treat content as a JavaScript regular expression"),
  case_sensitive: z.boolean().default(false).describe("Match letter case exactly; default false"),
  max_results: z.number().int().min(1).optional().describe("Most results to return"),
});

/** Glob to RegExp: `**` spans directories, `*` and `?` stay within one name, `[...]` and `{a,b}` work. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") {
      if (glob[i + 1] === "*") {
        i++;
        if (glob[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else {
          re += ".*";
        }
      } else {
        re += "[^/]*";
      }
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close < 0) re += "\\[";
      else {
        let cls = glob.slice(i + 1, close).replace(/\\/g, "\\\\");
        if (cls.startsWith("!")) cls = `^${cls.slice(1)}`;
        re += `[${cls}]`;
        i = close;
      }
    } else if (c === "{") {
      braces++;
      re += "(?:";
    } else if (c === "}" && braces > 0) {
      braces--;
      re += ")";
    } else if (c === "," && braces > 0) re += "|";
    else re += c.replace(/[.+^${}()|\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}${")".repeat(braces)}$`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function searchFilesTool(ws: Workspace): AgentTool {
  const L = ws.limits;
  return {
    name: "search_files",
    description:
      "Find files in the workspace by name glob and/or by content (literal text, or a regex with regex=true). " +
      `Returns matching paths, or path:line: text for content matches, at most ${L.maxSearchResults}. ` +
      `Skips binary files, files over ${size(L.maxSearchFileBytes)}, symlinks, .git and node_modules.`,
    inputSchema: inputSchemaOf(SearchFilesInput),
    readOnly: true,
    source: "workspace",
    async call(input, ctx) {
      const args = parseInput("search_files", SearchFilesInput, input);
      if (typeof args === "string") return failure(args);
      const r = await resolve(ws, args.path);
      if (typeof r === "string") return failure(r, args.path);
      if (!r.exists) return failure(`path not found: ${r.shown}`, r.shown);
      const max = Math.min(args.max_results ?? L.maxSearchResults, L.maxSearchResults);
      const flags = args.case_sensitive ? "" : "i";
      let matcher: RegExp | null = null;
      if (args.content !== undefined) {
        const source = args.regex ? args.content : escapeRegExp(args.content);
        try {
          matcher = new RegExp(source, flags);
        } catch (err) {
          return failure(`invalid regular expression: ${(err as Error).message}`, r.shown);
        }
      }
      let nameRe: RegExp | null = null;
      if (args.name !== undefined) {
        try {
          nameRe = globToRegExp(args.name);
        } catch {
          return failure(`invalid name glob: ${args.name}`, r.shown);
        }
      }
      const nameTest = (rel: string): boolean =>
        nameRe === null || nameRe.test(args.name!.includes("/") ? rel : path.basename(rel));

      const walked = await walkForSearch(r.real, L.maxSearchEntries, ctx.signal);
      if (ctx.signal.aborted) return failure("cancelled", r.shown);
      const notes: string[] = [];
      if (walked.symlinks) notes.push(`${plural(walked.symlinks, "symlink")} not followed`);
      if (walked.stoppedAt) notes.push(`walk stopped after ${walked.stoppedAt} entries`);
      const view = await pathViewer(ws);

      if (!matcher) {
        const hits = walked.entries.filter((e) => e.rel !== "" && nameTest(e.rel));
        const out = hits.slice(0, max).map((e) => view(e.real) + (e.dir ? "/" : ""));
        if (hits.length > max) notes.push(`showing ${max} of ${hits.length} matches`);
        const summary = `${plural(hits.length, "match", "matches")} for name '${args.name ?? "*"}' under ${r.shown}`;
        return success(searchText(summary, out, notes), {
          path: r.shown,
          bytes: 0,
        });
      }

      const candidates: { real: string; shown: string }[] = [];
      let large = 0;
      for (const e of walked.entries) {
        if (e.dir || !nameTest(e.rel === "" ? path.basename(e.real) : e.rel)) continue;
        if (e.size > L.maxSearchFileBytes) large++;
        else candidates.push({ real: e.real, shown: view(e.real) });
      }
      if (large) notes.push(`${plural(large, "file")} over ${L.maxSearchFileBytes} bytes skipped`);
      const found = await searchContents(candidates, matcher, max, L.searchTimeoutMs, ctx.signal);
      if (found.cancelled) return failure("cancelled", r.shown);
      if (found.binary) notes.push(`${plural(found.binary, "binary or non-UTF-8 file")} skipped`);
      if (found.timedOut) notes.push(`search stopped after ${L.searchTimeoutMs} ms; results are incomplete`);
      if (found.failure) notes.push(`search stopped early (${found.failure}); results are incomplete`);
      if (found.lines.length >= max) notes.push(`stopped at ${max} results`);
      const summary =
        `${plural(found.lines.length, "matching line")} in ${plural(found.files, "file")} ` +
        `(searched ${plural(found.searched - found.binary, "file")} under ${r.shown})`;
      return success(searchText(summary, found.lines, notes), { path: r.shown, bytes: 0 });
    },
  };
}

function searchText(summary: string, lines: string[], notes: string[]): string {
  const tail = notes.length ? `\n[${notes.join("; ")}]` : "";
  return `${summary}${lines.length ? `\n${lines.join("\n")}` : ""}${tail}`;
}

interface WalkEntry {
  real: string;
  rel: string;
  dir: boolean;
  size: number;
}

/** Regular files and directories below `top` (or `top` itself when it is a file); symlinks are counted, not followed. */
async function walkForSearch(
  top: string,
  maxEntries: number,
  signal: AbortSignal,
): Promise<{ entries: WalkEntry[]; symlinks: number; stoppedAt: number }> {
  const entries: WalkEntry[] = [];
  let symlinks = 0;
  let seen = 0;
  const st = await fs.lstat(top);
  if (st.isFile())
    return { entries: [{ real: top, rel: "", dir: false, size: st.size }], symlinks, stoppedAt: 0 };
  const queue = [top];
  while (queue.length > 0) {
    if (signal.aborted) break;
    const dir = queue.shift()!;
    const names = (await fs.readdir(dir).catch(() => [] as string[])).sort();
    for (const name of names) {
      if (++seen > maxEntries) return { entries, symlinks, stoppedAt: maxEntries };
      const full = path.join(dir, name);
      const e = await fs.lstat(full).catch(() => null);
      if (!e) continue;
      const rel = path.relative(top, full);
      if (e.isSymbolicLink()) symlinks++;
      else if (e.isDirectory()) {
        entries.push({ real: full, rel, dir: true, size: 0 });
        if (!UNEXPANDED_DIRS.has(name)) queue.push(full);
      } else if (e.isFile()) entries.push({ real: full, rel, dir: false, size: e.size });
    }
  }
  return { entries, symlinks, stoppedAt: 0 };
}

// Content matching runs in a worker thread: a pathological regex can then be stopped at the time
// budget instead of freezing the server's event loop (and every other session with it).
const SEARCH_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const { files, source, flags, max, maxLineChars } = workerData;
const re = new RegExp(source, flags);
const flagsOpen = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
let count = 0;
for (let index = 0; index < files.length && count < max; index++) {
  let buf;
  try {
    const fd = fs.openSync(files[index], flagsOpen);
    try {
      if (!fs.fstatSync(fd).isFile()) { parentPort.postMessage({ index, skipped: true }); continue; }
      buf = fs.readFileSync(fd);
    } finally { fs.closeSync(fd); }
  } catch { parentPort.postMessage({ index, skipped: true }); continue; }
  let text;
  try {
    if (buf.subarray(0, 8192).includes(0)) throw new Error("binary");
    text = new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch { parentPort.postMessage({ index, binary: true }); continue; }
  const lines = text.split(/\\r?\\n/);
  const hits = [];
  for (let i = 0; i < lines.length && count < max; i++) {
    if (re.test(lines[i])) { hits.push([i + 1, lines[i].slice(0, maxLineChars)]); count++; }
  }
  parentPort.postMessage({ index, hits });
}
parentPort.postMessage({ done: true });
`;

interface ContentSearch {
  lines: string[];
  files: number;
  searched: number;
  failure: string | null;
  binary: number;
  timedOut: boolean;
  cancelled: boolean;
}

function searchContents(
  files: { real: string; shown: string }[],
  matcher: RegExp,
  max: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<ContentSearch> {
  const result: ContentSearch = {
    lines: [],
    files: 0,
    searched: 0,
    failure: null,
    binary: 0,
    timedOut: false,
    cancelled: false,
  };
  if (files.length === 0) return Promise.resolve(result);
  return new Promise((resolveSearch) => {
    const worker = new Worker(SEARCH_WORKER, {
      eval: true,
      workerData: {
        files: files.map((f) => f.real),
        source: matcher.source,
        flags: matcher.flags,
        max,
        maxLineChars: MAX_MATCH_LINE_CHARS,
      },
      resourceLimits: { maxOldGenerationSizeMb: 256 },
      stdout: true,
      stderr: true,
    });
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      void worker.terminate();
      resolveSearch(result);
    };
    const onAbort = () => {
      result.cancelled = true;
      finish();
    };
    const timer = setTimeout(() => {
      result.timedOut = true;
      finish();
    }, timeoutMs);
    signal.addEventListener("abort", onAbort, { once: true });
    worker.on(
      "message",
      (m: { index?: number; hits?: [number, string][]; binary?: boolean; done?: boolean }) => {
        if (m.done) return finish();
        result.searched++;
        if (m.binary) result.binary++;
        if (m.hits?.length && m.index !== undefined) {
          result.files++;
          for (const [line, text] of m.hits) result.lines.push(`${files[m.index].shown}:${line}: ${text}`);
        }
      },
    );
    worker.on("error", (err) => {
      result.failure = err.message;
      finish();
    });
    worker.on("exit", finish);
  });
}

// ---------------------------------------------------------------------------------------------
// write_file and edit_file

const WriteFileInput = z.object({
  path: z.string().min(1).describe("File path, relative to the working directory or absolute"),
  content: z.string().describe("The complete new file content (UTF-8)"),
});

/** Resolve a path for writing: inside the sandbox, not a directory or special file. */
async function resolveForWrite(ws: Workspace, p: string): Promise<Resolved | string> {
  const r = await resolve(ws, p);
  if (typeof r === "string") return r;
  if (r.real === r.root) return `'${r.shown}' is an allowed directory itself, not a file`;
  if (r.exists) {
    const st = await fs.stat(r.real);
    if (st.isDirectory()) return `'${r.shown}' is a directory`;
    if (!st.isFile()) return `'${r.shown}' is a ${kindOf(st)}, not a regular file; refused`;
  }
  return r;
}

/** Write without following a final symlink and without blocking on a FIFO; creates parent dirs. */
async function writeRegularFile(real: string, data: Buffer): Promise<void> {
  await fs.mkdir(path.dirname(real), { recursive: true });
  const fh = await fs.open(
    real,
    constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW | constants.O_NONBLOCK,
    0o666,
  );
  try {
    if (!(await fh.stat()).isFile()) throw new Error("not a regular file");
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
}

function writeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(err);
}

function writeFileTool(ws: Workspace): AgentTool {
  const cap = ws.limits.maxWriteBytes;
  return {
    name: "write_file",
    description:
      "Create or overwrite a file in the workspace with the given content; missing parent directories " +
      `are created. At most ${size(cap)}. Prefer edit_file for changing part of an existing file.`,
    inputSchema: inputSchemaOf(WriteFileInput),
    readOnly: false,
    source: "workspace",
    async call(input, ctx) {
      const args = parseInput("write_file", WriteFileInput, input);
      if (typeof args === "string") return failure(args);
      if (ctx.signal.aborted) return failure("cancelled");
      const data = Buffer.from(args.content, "utf8");
      if (data.length > cap) {
        return failure(`content is ${data.length} bytes, more than the ${cap}-byte write cap`, args.path);
      }
      const r = await resolveForWrite(ws, args.path);
      if (typeof r === "string") return failure(r, args.path);
      try {
        await writeRegularFile(r.real, data);
      } catch (err) {
        return failure(`cannot write '${r.shown}': ${writeError(err)}`, r.shown);
      }
      return success(`${r.exists ? "Overwrote" : "Created"} ${r.shown} (${data.length} bytes)`, {
        path: r.shown,
        bytes: data.length,
      });
    },
  };
}

const EditFileInput = z.object({
  path: z.string().min(1).describe("File path, relative to the working directory or absolute"),
  old_string: z.string().min(1).describe("Exact text to replace, including whitespace and line breaks"),
  new_string: z.string().describe("Replacement text"),
  replace_all: z
    .boolean()
    .default(false)
    .describe("Replace every occurrence; otherwise old_string must occur exactly once"),
});

function editFileTool(ws: Workspace): AgentTool {
  const cap = ws.limits.maxWriteBytes;
  return {
    name: "edit_file",
    description:
      "Replace an exact string in a workspace text file. Fails unless old_string occurs exactly once " +
      "(add surrounding lines to make it unique), or set replace_all to replace every occurrence.",
    inputSchema: inputSchemaOf(EditFileInput),
    readOnly: false,
    source: "workspace",
    async call(input, ctx) {
      const args = parseInput("edit_file", EditFileInput, input);
      if (typeof args === "string") return failure(args);
      if (ctx.signal.aborted) return failure("cancelled");
      if (args.old_string === args.new_string) return failure("old_string and new_string are identical");
      const r = await resolveForWrite(ws, args.path);
      if (typeof r === "string") return failure(r, args.path);
      if (!r.exists) return failure(`file not found: ${r.shown} (use write_file to create it)`, r.shown);
      const opened = await openRegularFile(r);
      if (typeof opened === "string") return failure(opened, r.shown);
      let original: Buffer;
      try {
        if (opened.size > cap) {
          return failure(`'${r.shown}' is ${opened.size} bytes, more than the ${cap}-byte edit cap`, r.shown);
        }
        original = await readRange(opened.fh, 0, opened.size);
      } finally {
        await opened.fh.close();
      }
      if (looksBinary(original)) return failure(`'${r.shown}' is a binary file; refused`, r.shown);
      const text = original.toString("utf8");

      const parts = text.split(args.old_string);
      const count = parts.length - 1;
      if (count === 0) {
        const crlf =
          text.includes("\r\n") && args.old_string.includes("\n") && !args.old_string.includes("\r\n")
            ? " (the file uses CRLF line endings)"
            : "";
        return failure(
          `old_string was not found in '${r.shown}'; it must match the file exactly, including whitespace${crlf}`,
          r.shown,
        );
      }
      if (count > 1 && !args.replace_all) {
        return failure(
          `old_string occurs ${count} times in '${r.shown}'; include more surrounding text to make it unique, ` +
            "or set replace_all to true",
          r.shown,
        );
      }
      const data = Buffer.from(parts.join(args.new_string), "utf8");
      if (data.length > cap) {
        return failure(
          `the edited file would be ${data.length} bytes, more than the ${cap}-byte cap`,
          r.shown,
        );
      }
      try {
        await writeRegularFile(r.real, data);
      } catch (err) {
        return failure(`cannot write '${r.shown}': ${writeError(err)}`, r.shown);
      }
      return success(
        `Edited ${r.shown}: replaced ${plural(count, "occurrence")} (${original.length} -> ${data.length} bytes)`,
        { path: r.shown, bytes: data.length },
      );
    },
  };
}
