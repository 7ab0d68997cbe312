// A real temporary sandbox for the workspace tests: a working directory, a second allowed dir, and an
// "outside" dir that must never be touched, plus symlinks that try to leave.
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ToolContext } from "../../src/backends/backend.js";

export interface Sandbox {
  base: string;
  ws: string;
  other: string;
  outside: string;
  cleanup(): Promise<void>;
}

export async function makeSandbox(): Promise<Sandbox> {
  const base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "cam-ws-")));
  const ws = path.join(base, "ws");
  const other = path.join(base, "other");
  const outside = path.join(base, "outside");
  for (const d of [ws, other, outside, path.join(ws, "src", "lib"), path.join(base, "ws2")]) {
    await fs.mkdir(d, { recursive: true });
  }
  await fs.writeFile(path.join(ws, "README.md"), "# Demo\n\nHello workspace.\n");
  await fs.writeFile(path.join(ws, "src", "index.ts"), 'export const greeting = "hello";\n');
  await fs.writeFile(
    path.join(ws, "src", "lib", "util.ts"),
    "export function add(a: number, b: number) {\n  return a + b;\n}\n",
  );
  await fs.writeFile(path.join(other, "notes.txt"), "notes in another allowed dir\n");
  await fs.writeFile(path.join(outside, "secret.txt"), "TOP SECRET outside the sandbox\n");
  await fs.writeFile(path.join(base, "ws2", "sibling.txt"), "prefix sibling\n");
  await fs.writeFile(
    path.join(ws, "image.png"),
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48]),
  );
  execFileSync("mkfifo", [path.join(ws, "pipe")]);
  await fs.symlink("/etc", path.join(ws, "link-etc"));
  await fs.symlink("/etc/passwd", path.join(ws, "link-passwd"));
  await fs.symlink(outside, path.join(ws, "link-outside"));
  await fs.symlink(path.join(outside, "created-through-link.txt"), path.join(ws, "dangling"));
  await fs.symlink(path.join(ws, "README.md"), path.join(ws, "readme-link"));
  return { base, ws, other, outside, cleanup: () => fs.rm(base, { recursive: true, force: true }) };
}

/** Names, sizes and contents of everything under `dir` (to prove nothing was touched). */
export async function snapshot(dir: string): Promise<string> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const name of (await fs.readdir(d)).sort()) {
      const full = path.join(d, name);
      const st = await fs.lstat(full);
      if (st.isDirectory()) await walk(full);
      else
        out.push(`${path.relative(dir, full)} ${st.size} ${st.mtimeMs} ${await fs.readFile(full, "utf8")}`);
    }
  };
  await walk(dir);
  return out.join("\n");
}

export function context(signal = new AbortController().signal): ToolContext {
  return { signal, sessionId: "test-session", turnIndex: 0 };
}
