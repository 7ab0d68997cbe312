import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isInside, resolveInside } from "../../src/policy/paths.js";
import { makeSandbox, type Sandbox } from "./sandbox.js";

describe("isInside", () => {
  it("is component-wise", () => {
    expect(isInside("/tmp/a", "/tmp/a")).toBe(true);
    expect(isInside("/tmp/a/b/c", "/tmp/a")).toBe(true);
    expect(isInside("/tmp/ab", "/tmp/a")).toBe(false);
    expect(isInside("/tmp", "/tmp/a")).toBe(false);
    expect(isInside("/tmp/a/..b", "/tmp/a")).toBe(true);
    expect(isInside("/etc/passwd", "/")).toBe(true);
  });
});

describe("resolveInside", () => {
  let sb: Sandbox;
  let opts: { cwd: string; roots: string[] };
  beforeAll(async () => {
    sb = await makeSandbox();
    opts = { cwd: sb.ws, roots: [sb.ws, sb.other] };
  });
  afterAll(() => sb.cleanup());

  it("resolves relative paths against cwd", async () => {
    const r = await resolveInside("src/index.ts", opts);
    expect(r).toEqual({ ok: true, path: path.join(sb.ws, "src", "index.ts"), root: sb.ws, exists: true });
  });

  it("accepts a path equal to an allowed root and paths in other roots", async () => {
    expect(await resolveInside(".", opts)).toMatchObject({ ok: true, path: sb.ws, exists: true });
    expect(await resolveInside(sb.other, opts)).toMatchObject({ ok: true, root: sb.other });
    expect(await resolveInside("../other/notes.txt", opts)).toMatchObject({ ok: true, root: sb.other });
  });

  it("refuses ../ escapes, absolute paths outside and prefix siblings", async () => {
    for (const p of [
      "../outside/secret.txt",
      path.join(sb.outside, "secret.txt"),
      "/etc/passwd",
      "../ws2/sibling.txt",
    ]) {
      const r = await resolveInside(p, opts);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe("outside_roots");
        expect(r.reason).toContain("outside the allowed directories");
      }
    }
  });

  it("follows symlinks and refuses those that leave the roots", async () => {
    for (const p of [
      "link-etc",
      "link-etc/passwd",
      "link-passwd",
      "link-outside/secret.txt",
      "link-outside/new.txt",
    ]) {
      const r = await resolveInside(p, opts);
      expect(r, p).toMatchObject({ ok: false, code: "symlink_escape" });
    }
    expect(await resolveInside("readme-link", opts)).toMatchObject({
      ok: true,
      path: path.join(sb.ws, "README.md"),
    });
  });

  it("resolves missing targets through their nearest existing ancestor", async () => {
    const r = await resolveInside("new/deeper/file.txt", opts);
    expect(r).toEqual({
      ok: true,
      path: path.join(sb.ws, "new", "deeper", "file.txt"),
      root: sb.ws,
      exists: false,
    });
  });

  it("refuses dangling symlinks, files used as directories, empty and NUL paths", async () => {
    expect(await resolveInside("dangling", opts)).toMatchObject({ ok: false, code: "invalid_path" });
    expect(await resolveInside("README.md/x", opts)).toMatchObject({ ok: false, code: "invalid_path" });
    expect(await resolveInside("", opts)).toMatchObject({ ok: false, code: "invalid_path" });
    expect(await resolveInside("a\0b", opts)).toMatchObject({ ok: false, code: "invalid_path" });
  });

  it("refuses symlink loops", async () => {
    await fs.symlink("loop-b", path.join(sb.ws, "loop-a"));
    await fs.symlink("loop-a", path.join(sb.ws, "loop-b"));
    expect(await resolveInside("loop-a", opts)).toMatchObject({ ok: false, code: "invalid_path" });
  });

  it("works when an allowed root is given through a symlink", async () => {
    const alias = path.join(sb.base, "ws-alias");
    await fs.symlink(sb.ws, alias);
    const r = await resolveInside("README.md", { cwd: alias, roots: [alias] });
    expect(r).toMatchObject({ ok: true, path: path.join(sb.ws, "README.md"), root: sb.ws });
  });
});
