import { promises as fs } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  callWorkspaceTool,
  createWorkspaceTools,
  globToRegExp,
  type WorkspaceLimits,
} from "../../src/backends/api/workspace-tools.js";
import type { AgentTool, ToolOutcome } from "../../src/backends/backend.js";
import { context, makeSandbox, type Sandbox, snapshot } from "./sandbox.js";

let sb: Sandbox;
let outsideBefore: string;
let etcPasswdBefore: string;

beforeAll(async () => {
  sb = await makeSandbox();
  outsideBefore = await snapshot(sb.outside);
  etcPasswdBefore = JSON.stringify(await fs.stat("/etc/passwd"));
});

afterAll(async () => {
  // Nothing any test did may have reached outside the sandbox.
  expect(await snapshot(sb.outside)).toBe(outsideBefore);
  expect(JSON.stringify(await fs.stat("/etc/passwd"))).toBe(etcPasswdBefore);
  await sb.cleanup();
});

function tools(readOnly = false, limits?: Partial<WorkspaceLimits>): AgentTool[] {
  return createWorkspaceTools({ workingDirectory: sb.ws, allowedDirs: [sb.other], readOnly, limits });
}

function call(name: string, input: unknown, set = tools()): Promise<ToolOutcome> {
  return callWorkspaceTool(set, name, input, context());
}

function expectError(out: ToolOutcome, text: string | RegExp) {
  expect(out.isError).toBe(true);
  expect(out.content).toMatch(text);
  expect(out.audit?.ok).toBe(false);
}

describe("tool sets", () => {
  it("general offers five tools with schemas; read-only offers only the three readers", () => {
    const general = tools(false);
    expect(general.map((t) => t.name)).toEqual([
      "read_file",
      "list_directory",
      "search_files",
      "write_file",
      "edit_file",
    ]);
    for (const t of general) {
      expect(t.source).toBe("workspace");
      expect(t.description.length).toBeGreaterThan(20);
      expect(t.inputSchema).toMatchObject({ type: "object" });
      expect(t.inputSchema).not.toHaveProperty("$schema");
      expect(JSON.stringify(t.inputSchema)).not.toContain(String(Number.MAX_SAFE_INTEGER));
      expect(t.readOnly).toBe(!["write_file", "edit_file"].includes(t.name));
    }
    expect((general[0].inputSchema as { required: string[] }).required).toEqual(["path"]);
    expect(tools(true).map((t) => t.name)).toEqual(["read_file", "list_directory", "search_files"]);
    expect(tools(true).every((t) => t.readOnly)).toBe(true);
  });

  it("refuses a forged write call on a read-only set, touching nothing", async () => {
    const ro = tools(true);
    for (const name of ["write_file", "edit_file"]) {
      const out = await call(
        name,
        { path: "forged.txt", content: "x", old_string: "a", new_string: "b" },
        ro,
      );
      expectError(out, /tool '(write|edit)_file' is not available for this profile/);
    }
    await expect(fs.stat(path.join(sb.ws, "forged.txt"))).rejects.toThrow();
  });

  it("reports unknown tools and tool exceptions as tool errors", async () => {
    expectError(await call("delete_everything", {}), /not available for this profile.*read_file/);
    const boom: AgentTool = {
      name: "boom",
      description: "throws",
      inputSchema: { type: "object" },
      readOnly: true,
      source: "test",
      call: async () => {
        throw new Error("kaput");
      },
    };
    expectError(await callWorkspaceTool([boom], "boom", {}, context()), /boom failed: kaput/);
  });

  it("validates input with a message naming the field", async () => {
    expectError(await call("read_file", {}), /invalid input for read_file: path/);
    expectError(await call("read_file", { path: "README.md", offset: -1 }), /offset/);
    expectError(await call("write_file", { path: "x.txt" }), /content/);
    expectError(await call("read_file", null), /path/);
  });
});

describe("read_file", () => {
  it("reads a real file whole, with a relative audit path", async () => {
    const out = await call("read_file", { path: "README.md" });
    expect(out).toEqual({
      content: "# Demo\n\nHello workspace.\n",
      isError: false,
      audit: { path: "README.md", bytes: 25, ok: true },
    });
  });

  it("reads from another allowed dir and through an inside symlink", async () => {
    const other = await call("read_file", { path: path.join(sb.other, "notes.txt") });
    expect(other.content).toBe("notes in another allowed dir\n");
    expect(other.audit?.path).toBe(path.join(sb.other, "notes.txt"));
    expect((await call("read_file", { path: "readme-link" })).content).toContain("Hello workspace");
  });

  it("refuses ../ escapes, absolute paths outside and symlinks to /etc", async () => {
    const attempts = [
      "../outside/secret.txt",
      "src/../../outside/secret.txt",
      path.join(sb.outside, "secret.txt"),
      "/etc/passwd",
      "link-passwd",
      "link-etc/passwd",
      "link-outside/secret.txt",
      "../ws2/sibling.txt",
    ];
    for (const p of attempts) {
      const out = await call("read_file", { path: p });
      expectError(out, /outside the allowed directories/);
      expect(out.content).not.toMatch(/root:|TOP SECRET|prefix sibling/);
    }
  });

  it("reports missing files, directories, FIFOs and sockets clearly", async () => {
    expectError(await call("read_file", { path: "nope.txt" }), /file not found: nope.txt/);
    expectError(await call("read_file", { path: "src" }), /is a directory; use list_directory/);
    expectError(await call("read_file", { path: "pipe" }), /'pipe' is a FIFO, not a regular file; refused/);
    const sockPath = path.join(sb.ws, "sock");
    const server = net.createServer().listen(sockPath);
    await new Promise((r) => server.once("listening", r));
    try {
      expectError(await call("read_file", { path: "sock" }), /socket, not a regular file/);
    } finally {
      server.close();
    }
    expectError(await call("read_file", { path: "/dev/null" }), /outside the allowed directories/);
  });

  it("says so for an empty file", async () => {
    await fs.writeFile(path.join(sb.ws, "empty.txt"), "");
    expect((await call("read_file", { path: "empty.txt" })).content).toBe("(empty.txt is empty)");
    expect((await call("read_file", { path: "empty.txt", limit: 10 })).content).toBe("(empty.txt is empty)");
  });

  it("reports binary files with their size instead of dumping them", async () => {
    const out = await call("read_file", { path: "image.png" });
    expect(out.isError).toBe(false);
    expect(out.content).toBe("'image.png' is a binary file (14 bytes); its contents are not shown.");
    await fs.writeFile(path.join(sb.ws, "latin1.txt"), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    expect((await call("read_file", { path: "latin1.txt" })).content).toMatch(/binary file \(5 bytes\)/);
  });

  describe("large files", () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i + 1} ${"x".repeat(40)}`);
    const text = `${lines.join("\n")}\n`;
    const cap = 4096;
    const small = () => tools(false, { maxReadBytes: cap });
    beforeEach(() => fs.writeFile(path.join(sb.ws, "big.txt"), text));

    it("refuses a whole read over the cap and says how to page", async () => {
      const out = await call("read_file", { path: "big.txt" }, small());
      expectError(
        out,
        /is \d+ bytes, more than the 4096-byte read cap; read it in parts with offset and limit/,
      );
    });

    it("pages by lines", async () => {
      const out = await call("read_file", { path: "big.txt", offset: 10, limit: 3 }, small());
      expect(out.isError).toBe(false);
      expect(out.content.split("\n").slice(0, 3)).toEqual([lines[10], lines[11], lines[12]]);
      expect(out.content).toContain("[lines 11-13 of big.txt");
      expect(out.content).toContain("continue with offset=13");
      expect(out.audit).toMatchObject({ path: "big.txt", ok: true });
    });

    it("stops a line read at the byte cap on a line boundary", async () => {
      const out = await call("read_file", { path: "big.txt", offset: 0, limit: 1000 }, small());
      const body = out.content.slice(0, out.content.lastIndexOf("\n[") + 1);
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(cap);
      expect(body.endsWith(lines[Number(/lines 1-(\d+)/.exec(out.content)![1]) - 1] + "\n")).toBe(true);
      expect(out.content).toContain("stopped at the 4096-byte read cap");
    });

    it("reads the last lines and reports the end of file", async () => {
      const out = await call("read_file", { path: "big.txt", offset: 998 }, small());
      expect(out.content).toBe(
        `${lines[998]}\n${lines[999]}\n[lines 999-1000 of big.txt (${text.length} bytes); end of file]`,
      );
      expectError(
        await call("read_file", { path: "big.txt", offset: 1000 }, small()),
        /past the end.*1000 lines/,
      );
    });

    it("pages by bytes, capped", async () => {
      const out = await call("read_file", { path: "big.txt", offset: 5, limit: 10, unit: "bytes" }, small());
      expect(out.content.startsWith(text.slice(5, 15))).toBe(true);
      expect(out.content).toContain('continue with offset=15 unit="bytes"');
      const capped = await call("read_file", { path: "big.txt", limit: 1_000_000, unit: "bytes" }, small());
      expect(capped.audit?.bytes).toBe(cap);
      expect(capped.content).toContain("limit capped at 4096 bytes");
    });

    it("handles a last line without a newline and multi-byte characters at a cut", async () => {
      await fs.writeFile(path.join(sb.ws, "tail.txt"), "a\nb\nc");
      expect((await call("read_file", { path: "tail.txt", offset: 2 })).content).toBe(
        "c\n[lines 3-3 of tail.txt (5 bytes); end of file]",
      );
      await fs.writeFile(path.join(sb.ws, "utf8.txt"), "é".repeat(100));
      const out = await call("read_file", { path: "utf8.txt", limit: 5, unit: "bytes" });
      expect(out.content.startsWith("éé[") || out.content.startsWith("éé\n[")).toBe(true);
      expect(out.content).not.toContain("\uFFFD");
    });
  });
});

describe("list_directory", () => {
  it("lists entries with type and size, not following symlinks", async () => {
    const out = await call("list_directory", {});
    expect(out.isError).toBe(false);
    expect(out.content).toMatch(/^Directory \. \(\d+ entries\):/);
    expect(out.content).toContain("README.md  (25 bytes)");
    expect(out.content).toContain("src/");
    expect(out.content).toContain("link-etc -> /etc  (symlink, outside the allowed directories)");
    expect(out.content).toContain("readme-link -> ");
    expect(out.content).not.toMatch(/^(passwd|hosts|hostname)\b/m);
    expect(out.content).not.toContain("index.ts");
  });

  it("descends with depth and caps entries", async () => {
    const deep = await call("list_directory", { path: "src", depth: 2 });
    expect(deep.content).toContain("lib/util.ts  (");
    expect(deep.content).toContain("index.ts  (33 bytes)");
    const capped = await call("list_directory", { depth: 3 }, tools(false, { maxListEntries: 3 }));
    expect(capped.content).toContain("(3 entries");
    expect(capped.content).toContain("[listing stopped at 3 entries");
  });

  it("refuses escapes and non-directories", async () => {
    expectError(await call("list_directory", { path: "link-etc" }), /outside the allowed directories/);
    expectError(await call("list_directory", { path: ".." }), /outside the allowed directories/);
    expectError(await call("list_directory", { path: "README.md" }), /not a directory/);
    expectError(await call("list_directory", { path: "missing" }), /directory not found/);
  });
});

describe("search_files", () => {
  it("globs on names and on paths", () => {
    expect(globToRegExp("*.ts").test("index.ts")).toBe(true);
    expect(globToRegExp("*.ts").test("lib/index.ts")).toBe(false);
    expect(globToRegExp("src/**/*.ts").test("src/lib/util.ts")).toBe(true);
    expect(globToRegExp("src/**/*.ts").test("src/index.ts")).toBe(true);
    expect(globToRegExp("*.{md,txt}").test("a.txt")).toBe(true);
    expect(globToRegExp("[!a]*.md").test("README.md")).toBe(true);
    expect(globToRegExp("file?.txt").test("file1.txt")).toBe(true);
  });

  it("finds files by name glob", async () => {
    const out = await call("search_files", { name: "*.ts" });
    expect(out.isError).toBe(false);
    expect(out.content).toContain("src/index.ts");
    expect(out.content).toContain("src/lib/util.ts");
    expect(out.content).not.toContain("README.md");
    const byPath = await call("search_files", { name: "src/lib/*" });
    expect(byPath.content).toMatch(/^1 match /);
  });

  it("searches contents literally, by regex, and case-insensitively by default", async () => {
    const lit = await call("search_files", { content: "a + b" });
    expect(lit.content).toContain("src/lib/util.ts:2:   return a + b;");
    const re = await call("search_files", { content: "export (const|function)", regex: true, name: "*.ts" });
    expect(re.content).toMatch(/^2 matching lines in 2 files/);
    expect((await call("search_files", { content: "HELLO WORKSPACE" })).content).toContain("README.md:3:");
    expect((await call("search_files", { content: "HELLO", case_sensitive: true })).content).toMatch(
      /^0 matching/,
    );
    expectError(await call("search_files", { content: "(", regex: true }), /invalid regular expression/);
  });

  it("does not follow symlinks out, and skips binary and huge files", async () => {
    const out = await call("search_files", { content: "secret" });
    expect(out.content).not.toContain("TOP SECRET");
    expect(out.content).toMatch(/symlinks? not followed/);
    await fs.mkdir(path.join(sb.ws, "mixed"), { recursive: true });
    await fs.writeFile(path.join(sb.ws, "mixed", "bin.dat"), Buffer.from("needle\0needle"));
    await fs.writeFile(path.join(sb.ws, "mixed", "huge.txt"), `needle\n${"y".repeat(5000)}\n`);
    await fs.writeFile(path.join(sb.ws, "mixed", "ok.txt"), "a needle here\n");
    const mixed = await call(
      "search_files",
      { path: "mixed", content: "needle" },
      tools(false, { maxSearchFileBytes: 1000 }),
    );
    expect(mixed.content).toMatch(/^1 matching line in 1 file/);
    expect(mixed.content).toContain("mixed/ok.txt:1: a needle here");
    expect(mixed.content).toContain("1 file over 1000 bytes skipped");
    expect(mixed.content).toContain("1 binary or non-UTF-8 file skipped");
    expectError(await call("search_files", { path: "link-outside", content: "x" }), /outside the allowed/);
  });

  it("caps results", async () => {
    await fs.mkdir(path.join(sb.ws, "many"), { recursive: true });
    await fs.writeFile(path.join(sb.ws, "many", "m.txt"), "hit\n".repeat(50));
    const out = await call("search_files", { path: "many", content: "hit", max_results: 7 });
    expect(out.content).toMatch(/^7 matching lines in 1 file/);
    expect(out.content).toContain("stopped at 7 results");
    const capped = await call(
      "search_files",
      { path: "many", content: "hit", max_results: 500 },
      tools(false, { maxSearchResults: 4 }),
    );
    expect(capped.content).toMatch(/^4 matching lines/);
  });

  it("stops a catastrophic regex at the time budget instead of hanging", async () => {
    await fs.writeFile(path.join(sb.ws, "many", "redos.txt"), `${"a".repeat(40)}!\n`);
    const started = Date.now();
    const out = await call(
      "search_files",
      { path: "many/redos.txt", content: "^(a+)+$", regex: true },
      tools(false, { searchTimeoutMs: 300 }),
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(out.isError).toBe(false);
    expect(out.content).toContain("search stopped after 300 ms; results are incomplete");
  });

  it("is cancelled by the run's abort signal", async () => {
    const ac = new AbortController();
    ac.abort();
    const out = await callWorkspaceTool(tools(), "search_files", { content: "x" }, context(ac.signal));
    expectError(out, /cancelled/);
  });
});

describe("write_file", () => {
  it("creates files and missing parent directories, and overwrites", async () => {
    const out = await call("write_file", { path: "out/nested/new.txt", content: "fresh\n" });
    expect(out).toEqual({
      content: "Created out/nested/new.txt (6 bytes)",
      isError: false,
      audit: { path: "out/nested/new.txt", bytes: 6, ok: true },
    });
    expect(await fs.readFile(path.join(sb.ws, "out/nested/new.txt"), "utf8")).toBe("fresh\n");
    const again = await call("write_file", { path: "out/nested/new.txt", content: "second" });
    expect(again.content).toBe("Overwrote out/nested/new.txt (6 bytes)");
    expect((await call("write_file", { path: path.join(sb.other, "w.txt"), content: "o" })).isError).toBe(
      false,
    );
  });

  it("refuses escapes of every kind and touches nothing outside", async () => {
    const attempts = [
      "../outside/evil.txt",
      path.join(sb.outside, "evil.txt"),
      "/etc/evil.conf",
      "link-outside/evil.txt",
      "link-outside/newdir/evil.txt",
      "link-etc/evil.conf",
      "link-passwd",
    ];
    for (const p of attempts)
      expectError(await call("write_file", { path: p, content: "pwned" }), /outside the allowed/);
    expectError(
      await call("write_file", { path: "dangling", content: "pwned" }),
      /symbolic link whose target does not exist/,
    );
    await expect(fs.stat(path.join(sb.outside, "created-through-link.txt"))).rejects.toThrow();
    expect(await snapshot(sb.outside)).toBe(outsideBefore);
  });

  it("refuses directories, special files, roots and oversized content", async () => {
    expectError(await call("write_file", { path: "src", content: "x" }), /is a directory/);
    expectError(
      await call("write_file", { path: ".", content: "x" }),
      /allowed directory itself|is a directory/,
    );
    expectError(await call("write_file", { path: "pipe", content: "x" }), /FIFO, not a regular file/);
    expectError(
      await call(
        "write_file",
        { path: "big.bin", content: "z".repeat(101) },
        tools(false, { maxWriteBytes: 100 }),
      ),
      /101 bytes, more than the 100-byte write cap/,
    );
    await expect(fs.stat(path.join(sb.ws, "big.bin"))).rejects.toThrow();
  });
});

describe("edit_file", () => {
  const file = () => path.join(sb.ws, "edit.txt");
  beforeEach(() => fs.writeFile(file(), "alpha\nbeta\nalpha\ngamma\n"));

  it("replaces a unique string", async () => {
    const out = await call("edit_file", { path: "edit.txt", old_string: "beta", new_string: "BETA $& $1" });
    expect(out.isError).toBe(false);
    expect(out.content).toBe("Edited edit.txt: replaced 1 occurrence (23 -> 29 bytes)");
    expect(out.audit).toEqual({ path: "edit.txt", bytes: 29, ok: true });
    expect(await fs.readFile(file(), "utf8")).toBe("alpha\nBETA $& $1\nalpha\ngamma\n");
  });

  it("fails unless the string occurs exactly once, unless replace_all", async () => {
    expectError(
      await call("edit_file", { path: "edit.txt", old_string: "alpha", new_string: "A" }),
      /occurs 2 times/,
    );
    expectError(
      await call("edit_file", { path: "edit.txt", old_string: "delta", new_string: "D" }),
      /was not found/,
    );
    expectError(
      await call("edit_file", { path: "edit.txt", old_string: "beta", new_string: "beta" }),
      /identical/,
    );
    expect(await fs.readFile(file(), "utf8")).toBe("alpha\nbeta\nalpha\ngamma\n");
    const all = await call("edit_file", {
      path: "edit.txt",
      old_string: "alpha",
      new_string: "A",
      replace_all: true,
    });
    expect(all.content).toContain("replaced 2 occurrences");
    expect(await fs.readFile(file(), "utf8")).toBe("A\nbeta\nA\ngamma\n");
  });

  it("hints at CRLF line endings", async () => {
    await fs.writeFile(file(), "one\r\ntwo\r\n");
    expectError(
      await call("edit_file", { path: "edit.txt", old_string: "one\ntwo", new_string: "x" }),
      /CRLF/,
    );
  });

  it("refuses missing, binary, outside and oversized files", async () => {
    expectError(
      await call("edit_file", { path: "none.txt", old_string: "a", new_string: "b" }),
      /file not found/,
    );
    expectError(await call("edit_file", { path: "image.png", old_string: "PNG", new_string: "b" }), /binary/);
    expectError(
      await call("edit_file", { path: "link-outside/secret.txt", old_string: "TOP", new_string: "b" }),
      /outside the allowed/,
    );
    expectError(
      await call("edit_file", { path: "../outside/secret.txt", old_string: "TOP", new_string: "b" }),
      /outside the allowed/,
    );
    expectError(
      await call(
        "edit_file",
        { path: "edit.txt", old_string: "beta", new_string: "b".repeat(200) },
        tools(false, { maxWriteBytes: 100 }),
      ),
      /more than the 100-byte cap/,
    );
    expect(await fs.readFile(file(), "utf8")).toBe("alpha\nbeta\nalpha\ngamma\n");
  });
});
