// Smoke run of the benchmark script on tiny sizes (`node bench/run.mjs --quick`): it must finish
// and write a results file (here a temp file, so bench/results.json keeps the last real run) with
// every section. Benchmarks are not tests: the figures and
// targets are not asserted here, only that the bench runs and reports them.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI_PATH, REPO_ROOT } from "../helpers/mcp-harness.js";

describe("bench --quick", () => {
  it("runs every section on tiny sizes and writes the results file", () => {
    expect(existsSync(CLI_PATH), "run `npm run build` first").toBe(true);
    const started = Date.now();
    const dir = mkdtempSync(join(tmpdir(), "cam-bench-smoke-"));
    const out = join(dir, "results.json");
    const r = spawnSync(process.execPath, [join(REPO_ROOT, "bench", "run.mjs"), "--quick", `--out=${out}`], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 120_000,
      killSignal: "SIGKILL",
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const results = JSON.parse(readFileSync(out, "utf8"));
    rmSync(dir, { recursive: true, force: true });
    expect(results.meta.quick).toBe(true);
    expect(new Date(results.meta.date).getTime()).toBeGreaterThanOrEqual(started - 1000);
    for (const key of ["cold_start", "memory", "first_run", "per_call", "scale", "concurrency", "targets"]) {
      expect(results[key], key).toBeTruthy();
    }
    expect(results.cold_start.tools_list_ms.median).toBeGreaterThan(0);
    expect(results.cold_start.tools_list_bytes_six).toBeGreaterThan(0);
    expect(results.per_call.run_task_overhead_ms.n).toBeGreaterThan(0);
    expect(Object.keys(results.scale.ops).length).toBeGreaterThan(0);
    expect(results.concurrency.stdio.wall_over_latency.median).toBeGreaterThan(0);
    expect(results.targets.length).toBeGreaterThan(5);
    expect(r.stdout).toMatch(/targets:/);
  }, 150_000);
});
