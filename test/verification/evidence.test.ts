import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evidenceEntries, inspectEvidence } from "../../src/verification/evidence.js";

let root: string; // real path of a temp dir holding: a/ (allowed), ab/ (sibling), outside/
let allowed: string;
const sha = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");

beforeAll(() => {
  root = realpathSync(mkdtempSync(path.join(tmpdir(), "cam-evidence-")));
  allowed = path.join(root, "a");
  mkdirSync(path.join(allowed, "sub"), { recursive: true });
  mkdirSync(path.join(root, "ab"));
  writeFileSync(path.join(allowed, "report.json"), '{"name": "x"}\n');
  writeFileSync(path.join(allowed, "big.txt"), "0123456789".repeat(10));
  writeFileSync(path.join(allowed, "utf8.txt"), "aé€😀"); // 1 + 2 + 3 + 4 bytes
  writeFileSync(path.join(allowed, "bin.dat"), Buffer.from([0x89, 0x50, 0x00, 0x01, 0xff]));
  writeFileSync(path.join(allowed, "latin1.txt"), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
  writeFileSync(path.join(root, "ab", "secret.txt"), "sibling secret");
  writeFileSync(path.join(root, "outside.txt"), "outside secret");
  symlinkSync(path.join(root, "outside.txt"), path.join(allowed, "escape.txt"));
  symlinkSync(path.join(allowed, "report.json"), path.join(allowed, "alias.json"));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const opts = (over: Partial<Parameters<typeof inspectEvidence>[1]> = {}) => ({
  cwd: allowed,
  allowedDirs: [allowed],
  perFileMaxBytes: 1000,
  totalMaxBytes: 10_000,
  ...over,
});

describe("inspectEvidence", () => {
  it("reads, sizes and hashes a file inside the allowed dirs (relative to cwd)", async () => {
    const r = await inspectEvidence(["report.json"], opts());
    expect(r.files[0]).toEqual({
      path: "report.json",
      resolved: path.join(allowed, "report.json"),
      exists: true,
      kind: "file",
      bytes: 14,
      sha256: sha('{"name": "x"}\n'),
      inside_allowed: true,
      denial: null,
      text: '{"name": "x"}\n',
      binary: false,
      truncated: false,
    });
    expect(r).toMatchObject({ missing: [], refused: [], warnings: [] });
    expect(evidenceEntries(r.files)).toEqual([
      { path: "report.json", exists: true, bytes: 14, sha256: sha('{"name": "x"}\n') },
    ]);
  });

  it("reports missing paths without failing", async () => {
    const r = await inspectEvidence(["nope.txt", path.join(root, "ab", "nope")], opts());
    expect(r.missing).toEqual(["nope.txt", path.join(root, "ab", "nope")]);
    expect(r.files.map((f) => [f.exists, f.bytes, f.sha256, f.text])).toEqual([
      [false, null, null, null],
      [false, null, null, null],
    ]);
  });

  it("is component-wise: a sibling sharing a prefix is outside, the allowed dir itself is inside", async () => {
    const r = await inspectEvidence([path.join(root, "ab", "secret.txt"), allowed, "sub"], opts());
    const [sibling, self, sub] = r.files;
    expect(sibling).toMatchObject({
      exists: true,
      inside_allowed: false,
      bytes: null,
      sha256: null,
      text: null,
    });
    expect(sibling!.denial).toMatch(/outside/);
    expect(self).toMatchObject({
      exists: true,
      inside_allowed: true,
      kind: "directory",
      bytes: null,
      text: null,
    });
    expect(sub).toMatchObject({ inside_allowed: true, kind: "directory" });
    expect(r.refused.map((f) => f.path)).toEqual([path.join(root, "ab", "secret.txt")]);
  });

  it("refuses a symlink that leaves the allowed dirs, without reading it", async () => {
    const r = await inspectEvidence(["escape.txt", "alias.json"], opts());
    expect(r.files[0]).toMatchObject({ exists: true, inside_allowed: false, text: null, sha256: null });
    expect(r.files[0]!.denial).toMatch(/symbolic link/);
    expect(r.files[1]).toMatchObject({ inside_allowed: true, resolved: path.join(allowed, "report.json") });
  });

  it("accepts an allowed dir given through a symlink", async () => {
    const link = path.join(root, "a-link");
    symlinkSync(allowed, link);
    const r = await inspectEvidence([path.join(link, "report.json")], opts({ allowedDirs: [link] }));
    expect(r.files[0]).toMatchObject({ inside_allowed: true, resolved: path.join(allowed, "report.json") });
  });

  it("truncates at the per-file limit and warns; the hash still covers the whole file", async () => {
    const r = await inspectEvidence(["big.txt"], opts({ perFileMaxBytes: 25 }));
    expect(r.files[0]).toMatchObject({ bytes: 100, text: "0123456789012345678901234", truncated: true });
    expect(r.files[0]!.sha256).toBe(sha("0123456789".repeat(10)));
    expect(r.warnings).toEqual(["Evidence file big.txt truncated to 25 of 100 bytes (per-file limit)"]);
  });

  it("shares a total budget across files and warns for each file cut or omitted", async () => {
    const r = await inspectEvidence(["report.json", "big.txt", "utf8.txt"], opts({ totalMaxBytes: 20 }));
    expect(r.files.map((f) => [f.text, f.truncated])).toEqual([
      ['{"name": "x"}\n', false],
      ["012345", true],
      ["", true],
    ]);
    expect(r.warnings).toEqual([
      "Evidence file big.txt truncated to 6 of 100 bytes (total evidence limit)",
      "Evidence file utf8.txt omitted from the prompt: total evidence limit of 20 bytes reached",
    ]);
  });

  it("never cuts a UTF-8 character in half", async () => {
    const r = await inspectEvidence(["utf8.txt"], opts({ perFileMaxBytes: 8 }));
    expect(r.files[0]).toMatchObject({ text: "aé€", truncated: true, binary: false });
  });

  it("detects binary and non-UTF-8 files and does not dump them", async () => {
    const r = await inspectEvidence(["bin.dat", "latin1.txt"], opts());
    for (const f of r.files) expect(f).toMatchObject({ binary: true, text: null, inside_allowed: true });
    expect(r.files[0]!.sha256).toBe(sha(Buffer.from([0x89, 0x50, 0x00, 0x01, 0xff])));
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings[0]).toMatch(/bin\.dat is binary/);
  });
});
