// agent_verify_task over stdio: the built dist/cli.js, the real MCP SDK client and the fake
// Anthropic API. Covers the fail-closed verdict table (CONTRACT.md §11) through text replies and
// submit_verdict calls, the v1.1.1 preflight vectors (upstream-core.md §7.6), the early paths
// (missing evidence, refused evidence, bad arguments), evidence reaching the model, the api
// failure classes, the read-only guarantee, and the report artifact and events. Every path is
// checked for the full result shape.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  allText,
  errorReply,
  type FakeAnthropic,
  type FakeReply,
  type FakeRequest,
  startFakeAnthropic,
  toolUseReply,
} from "../helpers/fake-anthropic.js";
import {
  type CallResult,
  type Harness,
  startServer,
  type TempDir,
  tempStateDir,
} from "../helpers/mcp-harness.js";

// ---------------------------------------------------------------------------------------------
// Expected shapes

const ENVELOPE_KEYS = [
  "ok",
  "session_id",
  "status",
  "workflow",
  "profile",
  "summary",
  "result",
  "artifacts",
  "warnings",
  "errors",
];

const RESULT_KEYS = [
  "verdict",
  "findings",
  "contradictions",
  "missing_evidence",
  "restrictions",
  "decision",
  "primary_reason",
  "reason_codes",
  "operator_guidance",
  "evidence_sufficiency",
  "scope_assessment",
  "profile_alignment",
  "outcome_kind",
  "failure_class",
  "failure_code",
  "retryable",
  "fallback_recommended",
  "verification_performed",
  "metrics",
  "model_verdict",
  "evidence",
];

const METRICS_KEYS = [
  "backend",
  "model",
  "turns",
  "duration_ms",
  "input_tokens",
  "output_tokens",
  "cost_usd",
  "stop_reason",
];

type Verdict = "pass" | "pass_with_restrictions" | "fail_closed" | "insufficient_evidence";
type ModelVerdict = Verdict | "unrecognised" | null;

const DECISION: Record<Verdict, string> = {
  pass: "verified",
  pass_with_restrictions: "verified",
  fail_closed: "not_verified",
  insufficient_evidence: "inconclusive",
};
const SUFFICIENCY: Record<Verdict, string> = {
  pass: "sufficient",
  pass_with_restrictions: "partial",
  fail_closed: "insufficient",
  insufficient_evidence: "insufficient",
};
const EVIDENCE_REASON: Record<Verdict, string> = {
  pass: "sufficient_evidence",
  pass_with_restrictions: "sufficient_evidence",
  fail_closed: "insufficient_evidence",
  insufficient_evidence: "insufficient_evidence",
};

const MODEL = "claude-fake-model";
const EVIDENCE_TEXT = "release: 1.2.3\nchannel: stable\nmarker: ZEBRA-4711-EVIDENCE\n";
const NESTED_TEXT = "# Changelog\n\n## 1.2.3\n- marker: OKAPI-0815-CHANGELOG\n";
const SECRET_TEXT = "TOP-SECRET-OUTSIDE-9931\n";
const NARROW_TASK = "Verify that evidence.txt states release 1.2.3";

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

/** The envelope and result keys, in order, and the shape of metrics and evidence entries. */
function expectFullShape(r: CallResult): void {
  const env = r.json;
  expect(Object.keys(env)).toEqual(ENVELOPE_KEYS);
  expect(env).toMatchObject({ workflow: "verify_task", profile: "verification" });
  expect(Object.keys(env.result)).toEqual(RESULT_KEYS);
  expect(Object.keys(env.result.metrics)).toEqual(METRICS_KEYS);
  expect(env.result.metrics.backend).toBe("api");
  for (const e of env.result.evidence) expect(Object.keys(e)).toEqual(["path", "exists", "bytes", "sha256"]);
  for (const k of [
    "findings",
    "contradictions",
    "missing_evidence",
    "restrictions",
    "reason_codes",
    "operator_guidance",
  ]) {
    expect(Array.isArray(env.result[k]), k).toBe(true);
  }
  expect(r.structuredContent).toEqual(env);
  // CONTRACT §4: ok:false also sets isError.
  expect(r.isError).toBe(env.ok === false);
}

/** A rejected request that never reached the model (missing/refused evidence, bad arguments). */
function expectEarlyFail(r: CallResult, code: string): void {
  expectFullShape(r);
  expect(r.json).toMatchObject({ ok: false, session_id: "", status: "failed", artifacts: [] });
  expect(r.json.result).toMatchObject({
    verdict: "fail_closed",
    findings: [],
    contradictions: [],
    missing_evidence: [],
    restrictions: [],
    decision: "not_verified",
    outcome_kind: "not_verified",
    evidence_sufficiency: "insufficient",
    failure_class: null,
    failure_code: null,
    retryable: false,
    fallback_recommended: false,
    verification_performed: false,
    model_verdict: null,
  });
  expect(r.json.result.metrics).toMatchObject({ turns: 0, input_tokens: 0, output_tokens: 0 });
  expect(r.json.errors.length).toBeGreaterThan(0);
  for (const e of r.json.errors) expect(e.code).toBe(code);
}

// ---------------------------------------------------------------------------------------------
// Fixtures: one temp root per describe block, a server per block (cwd inside the allowed dir)

let fake: FakeAnthropic;

beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake?.close();
});

interface World {
  root: TempDir;
  /** The allowed dir and the server's cwd. */
  allowed: string;
  outside: string;
  state: string;
  h: Harness;
}

async function makeWorld(): Promise<World> {
  const root = await tempStateDir("cam-verify-");
  const allowed = join(root.dir, "allowed");
  const outside = join(root.dir, "outside");
  const state = join(root.dir, "state");
  mkdirSync(join(allowed, "docs"), { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(allowed, "evidence.txt"), EVIDENCE_TEXT);
  writeFileSync(join(allowed, "docs", "CHANGELOG.md"), NESTED_TEXT);
  writeFileSync(join(outside, "secret.txt"), SECRET_TEXT);
  symlinkSync(join(outside, "secret.txt"), join(allowed, "link-out.txt"));
  const h = await startServer({
    cwd: allowed,
    env: {
      ANTHROPIC_API_KEY: "test",
      ANTHROPIC_BASE_URL: fake.url,
      CLAUDE_AGENT_MCP_MODEL: MODEL,
      CLAUDE_AGENT_MCP_STATE_DIR: state,
      CLAUDE_AGENT_MCP_ALLOWED_DIRS: allowed,
      CLAUDE_AGENT_MCP_API_MAX_RETRIES: "0",
    },
  });
  return { root, allowed, outside, state, h };
}

/** A server shared by the tests of one describe block; the fake is reset before each test. */
function useWorld(): () => World {
  let world: World | undefined;
  beforeAll(async () => {
    world = await makeWorld();
  });
  afterAll(async () => {
    await world?.h.close();
    await world?.root.cleanup();
  });
  beforeEach(() => {
    fake.reset();
  });
  return () => world!;
}

const verify = (h: Harness, args: Record<string, unknown>) => h.call("agent_verify_task", args);

async function sessionCount(h: Harness): Promise<number> {
  const r = await h.call("agent_list_sessions", { limit: 200 });
  return r.json.sessions.length;
}

/** The tool_result blocks of the last user message of a request. */
// biome-ignore lint/suspicious/noExplicitAny: content blocks are free-form JSON
function toolResults(req: FakeRequest): any[] {
  const last = req.body.messages?.at(-1);
  return Array.isArray(last?.content)
    ? last.content.filter((b: { type: string }) => b.type === "tool_result")
    : [];
}

// ---------------------------------------------------------------------------------------------
// The verdict table

interface VerdictCase {
  name: string;
  replies: FakeReply[];
  model: ModelVerdict;
  /** Verdict reported with fail_closed=true / false. */
  whenTrue: Verdict;
  whenFalse: Verdict;
  lists?: Partial<Record<"findings" | "contradictions" | "missing_evidence" | "restrictions", string[]>>;
}

const submit = (verdict: string, lists: Record<string, string[]> = {}) =>
  toolUseReply("submit_verdict", {
    verdict,
    findings: [],
    contradictions: [],
    missing_evidence: [],
    restrictions: [],
    ...lists,
  });

const VERDICT_CASES: VerdictCase[] = [
  // --- text replies
  {
    name: "text: VERDICT: **pass** with a numbered FINDINGS list",
    replies: [
      "I read evidence.txt.\n\nVERDICT: **pass**\nFINDINGS:\n1. The file states release 1.2.3.\n2. The channel is stable.\nCONTRADICTIONS:\n- none\nMISSING_EVIDENCE:\n- none\nRESTRICTIONS:\n- none\n",
    ],
    model: "pass",
    whenTrue: "pass",
    whenFalse: "pass",
    lists: {
      findings: ["The file states release 1.2.3.", "The channel is stable."],
      contradictions: [],
      missing_evidence: [],
      restrictions: [],
    },
  },
  {
    name: "text: **VERDICT:** `pass_with_restrictions` with bulleted RESTRICTIONS",
    replies: [
      "**VERDICT:** `pass_with_restrictions`\n\n**FINDINGS:**\n- Release 1.2.3 is stated.\n\nRESTRICTIONS:\n* Only evidence.txt was examined.\n* The build itself was not checked.\n",
    ],
    model: "pass_with_restrictions",
    whenTrue: "pass_with_restrictions",
    whenFalse: "pass_with_restrictions",
    lists: {
      findings: ["Release 1.2.3 is stated."],
      restrictions: ["Only evidence.txt was examined.", "The build itself was not checked."],
    },
  },
  {
    name: "text: Verdict: Fail. with CONTRADICTIONS",
    replies: [
      "Verdict: Fail.\nFINDINGS:\n- The file names a release.\nCONTRADICTIONS:\n- The release is not 1.2.4 as claimed elsewhere.\n",
    ],
    model: "fail_closed",
    whenTrue: "fail_closed",
    whenFalse: "fail_closed",
    lists: {
      findings: ["The file names a release."],
      contradictions: ["The release is not 1.2.4 as claimed elsewhere."],
    },
  },
  {
    name: "text: VERDICT: fail_closed",
    replies: ["VERDICT: fail_closed\nFINDINGS:\n- Cannot be confirmed.\n"],
    model: "fail_closed",
    whenTrue: "fail_closed",
    whenFalse: "fail_closed",
    lists: { findings: ["Cannot be confirmed."] },
  },
  {
    name: "text: VERDICT: insufficient with MISSING_EVIDENCE",
    replies: ["VERDICT: insufficient\nMISSING_EVIDENCE:\n- The release notes.\n- The tag list.\n"],
    model: "insufficient_evidence",
    whenTrue: "fail_closed",
    whenFalse: "insufficient_evidence",
    lists: { findings: [], missing_evidence: ["The release notes.", "The tag list."] },
  },
  {
    name: "text: VERDICT: insufficient_evidence.",
    replies: ["VERDICT: insufficient_evidence.\n"],
    model: "insufficient_evidence",
    whenTrue: "fail_closed",
    whenFalse: "insufficient_evidence",
  },
  {
    name: "text: unrecognised verdict word",
    replies: ["VERDICT: maybe\nFINDINGS:\n- The file is ambiguous.\n"],
    model: "unrecognised",
    whenTrue: "fail_closed",
    whenFalse: "insufficient_evidence",
    lists: { findings: ["The file is ambiguous."] },
  },
  {
    name: "text: no verdict at all",
    replies: ["The file looks plausible to me, but I will not commit to anything."],
    model: null,
    whenTrue: "fail_closed",
    whenFalse: "insufficient_evidence",
    lists: { findings: [], contradictions: [], missing_evidence: [], restrictions: [] },
  },
  // --- submit_verdict tool calls (then a closing text turn)
  {
    name: "submit_verdict: pass",
    replies: [submit("pass", { findings: ["Release 1.2.3 is stated."] }), "Submitted."],
    model: "pass",
    whenTrue: "pass",
    whenFalse: "pass",
    lists: { findings: ["Release 1.2.3 is stated."], restrictions: [] },
  },
  {
    name: "submit_verdict: pass_with_restrictions",
    replies: [
      submit("pass_with_restrictions", {
        findings: ["Stated."],
        restrictions: ["Only the text file was read."],
      }),
      "Submitted.",
    ],
    model: "pass_with_restrictions",
    whenTrue: "pass_with_restrictions",
    whenFalse: "pass_with_restrictions",
    lists: { findings: ["Stated."], restrictions: ["Only the text file was read."] },
  },
  {
    name: "submit_verdict: fail (alias)",
    replies: [submit("fail", { contradictions: ["It says 1.2.3, not 2.0."] }), "Submitted."],
    model: "fail_closed",
    whenTrue: "fail_closed",
    whenFalse: "fail_closed",
    lists: { contradictions: ["It says 1.2.3, not 2.0."] },
  },
  {
    name: "submit_verdict: fail_closed",
    replies: [submit("fail_closed"), ""],
    model: "fail_closed",
    whenTrue: "fail_closed",
    whenFalse: "fail_closed",
  },
  {
    name: "submit_verdict: insufficient_evidence",
    replies: [submit("insufficient_evidence", { missing_evidence: ["A build log."] }), "Submitted."],
    model: "insufficient_evidence",
    whenTrue: "fail_closed",
    whenFalse: "insufficient_evidence",
    lists: { missing_evidence: ["A build log."] },
  },
  {
    name: "submit_verdict: unrecognised verdict (rejected call), no text verdict",
    replies: [submit("probably_fine"), "I could not settle on a verdict."],
    model: "unrecognised",
    whenTrue: "fail_closed",
    whenFalse: "insufficient_evidence",
  },
  {
    name: "submit_verdict wins over a contradicting text VERDICT line",
    replies: [
      toolUseReply(
        "submit_verdict",
        { verdict: "pass", findings: ["ok"], contradictions: [], missing_evidence: [], restrictions: [] },
        { text: "VERDICT: fail" },
      ),
      "VERDICT: fail_closed",
    ],
    model: "pass",
    whenTrue: "pass",
    whenFalse: "pass",
    lists: { findings: ["ok"] },
  },
];

describe("verdict table (CONTRACT §11), both fail_closed values", () => {
  const world = useWorld();

  it.each(VERDICT_CASES.flatMap((c) => [true, false].map((fc) => ({ ...c, fc }))))(
    "$name, fail_closed=$fc",
    async (c) => {
      const { h } = world();
      fake.script(c.replies);
      const r = await verify(h, { task: NARROW_TASK, evidence_paths: ["evidence.txt"], fail_closed: c.fc });
      expectFullShape(r);
      const expected = c.fc ? c.whenTrue : c.whenFalse;
      const res = r.json.result;
      expect(r.json).toMatchObject({ ok: true, status: "completed", errors: [] });
      expect(r.json.session_id).toMatch(/^sess_/);
      expect(res.verdict).toBe(expected);
      expect(res.model_verdict).toBe(c.model);
      expect(res.decision).toBe(DECISION[expected]);
      expect(res.outcome_kind).toBe(DECISION[expected]);
      expect(res.evidence_sufficiency).toBe(SUFFICIENCY[expected]);
      expect(res).toMatchObject({
        primary_reason: EVIDENCE_REASON[expected],
        reason_codes: [EVIDENCE_REASON[expected]],
        scope_assessment: "narrow",
        profile_alignment: "in_profile",
        failure_class: null,
        failure_code: null,
        retryable: false,
        fallback_recommended: false,
        verification_performed: true,
      });
      expect(res.operator_guidance.length).toBeGreaterThan(0);
      for (const [k, v] of Object.entries(c.lists ?? {})) expect(res[k], k).toEqual(v);
      expect(r.json.summary).toBe(`Verification ${expected}: ${res.findings.length} finding(s)`);
      expect(res.metrics).toMatchObject({ backend: "api", model: MODEL, turns: c.replies.length });
      expect(res.evidence).toEqual([
        {
          path: "evidence.txt",
          exists: true,
          bytes: Buffer.byteLength(EVIDENCE_TEXT),
          sha256: sha256(EVIDENCE_TEXT),
        },
      ]);
      expect(r.json.artifacts.map((a: { logical_name: string }) => a.logical_name)).toEqual([
        "verification-report.md",
      ]);
      expect(fake.requests).toHaveLength(c.replies.length);
      if (c.name.startsWith("submit_verdict: unrecognised")) {
        const [tr] = toolResults(fake.requests[1]!);
        expect(tr.is_error).toBe(true);
        expect(JSON.stringify(tr.content)).toContain("submit_verdict");
      } else if (c.replies.length > 1) {
        const [tr] = toolResults(fake.requests[1]!);
        expect(tr.is_error).toBe(false);
      }
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Preflight vectors (upstream-core.md §7.6) as seen in the result

const PREFLIGHT_VECTORS: Array<[string, string[], string, string]> = [
  ["Verify whether /data/output.json matches the expected schema", [], "narrow", "in_profile"],
  ["Verify the report", ["ambiguous_request", "missing_required_context"], "broad", "in_profile"],
  ["Is it correct?", ["ambiguous_request", "missing_required_context"], "broad", "in_profile"],
  ["Verify foo", ["ambiguous_request", "missing_required_context"], "broad", "in_profile"],
  [
    "Check everything in the whole system",
    ["scope_too_broad", "missing_required_context"],
    "too_broad",
    "in_profile",
  ],
  ["Review the whole system.", ["scope_too_broad", "missing_required_context"], "too_broad", "in_profile"],
  ["Validate the entire repo.", ["scope_too_broad", "missing_required_context"], "too_broad", "in_profile"],
  [
    "Tell me if everything is safe.",
    ["scope_too_broad", "missing_required_context"],
    "too_broad",
    "in_profile",
  ],
  [
    "Fix the authentication module",
    ["out_of_profile_request", "scope_too_broad", "missing_required_context"],
    "too_broad",
    "out_of_profile",
  ],
  ["Verify config.yaml and also check that main.py exists", [], "narrow", "in_profile"],
];

describe("preflight vectors (upstream-core.md §7.6)", () => {
  const world = useWorld();

  it.each(PREFLIGHT_VECTORS)("%s → %j", async (task, lint, scope, alignment) => {
    const { h } = world();
    fake.script(["VERDICT: pass\nFINDINGS:\n- fine\n"]);
    const r = await verify(h, { task, evidence_paths: [] });
    expectFullShape(r);
    const res = r.json.result;
    expect(res.verdict).toBe("pass");
    expect(res.reason_codes).toEqual([...lint, "sufficient_evidence"]);
    expect(res.primary_reason).toBe(lint[0] ?? "sufficient_evidence");
    expect(res.scope_assessment).toBe(scope);
    expect(res.profile_alignment).toBe(alignment);
    expect(res.operator_guidance.length).toBeGreaterThanOrEqual(lint.length * 2 + 1);
    expect(new Set(res.operator_guidance).size).toBe(res.operator_guidance.length);
    if (lint.includes("scope_too_broad"))
      expect(res.operator_guidance.join(" ").toLowerCase()).toContain("narrow");
    // The preflight never blocks in standard mode: the model was asked.
    expect(fake.requests).toHaveLength(1);
    expect(allText(fake.requests[0]!)).toContain(task);
  });

  it("a fail_closed answer appends insufficient_evidence after the lint codes", async () => {
    const { h } = world();
    fake.script(["VERDICT: fail\n"]);
    const r = await verify(h, { task: "Fix the authentication module" });
    expectFullShape(r);
    expect(r.json.result).toMatchObject({
      verdict: "fail_closed",
      primary_reason: "out_of_profile_request",
      reason_codes: [
        "out_of_profile_request",
        "scope_too_broad",
        "missing_required_context",
        "insufficient_evidence",
      ],
      scope_assessment: "too_broad",
      profile_alignment: "out_of_profile",
    });
    const guidance = r.json.result.operator_guidance.join(" ").toLowerCase();
    expect(guidance).toMatch(/artifact|evidence/);
  });

  it("evidence paths count as targets; the preflight shows on early-fail paths too", async () => {
    const { h } = world();
    const r = await verify(h, { task: "Fix the authentication module", evidence_paths: ["nope.txt"] });
    expectEarlyFail(r, "missing_evidence");
    expect(r.json.result).toMatchObject({
      primary_reason: "out_of_profile_request",
      reason_codes: ["out_of_profile_request", "insufficient_evidence"],
      scope_assessment: "acceptable",
      profile_alignment: "out_of_profile",
    });
    expect(fake.requests).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Missing and refused evidence, bad arguments: no session, no model call

describe("early failures", () => {
  const world = useWorld();

  it.each([true, false])(
    "missing evidence fails early with one error per path (fail_closed=%s)",
    async (fc) => {
      const { h } = world();
      const before = await sessionCount(h);
      const r = await verify(h, {
        task: NARROW_TASK,
        evidence_paths: ["evidence.txt", "missing-a.txt", "docs/missing-b.log"],
        fail_closed: fc,
      });
      expectEarlyFail(r, "missing_evidence");
      expect(r.json.summary).toBe("Verification fail_closed");
      expect(r.json.warnings).toEqual([]);
      expect(r.json.errors).toEqual([
        { code: "missing_evidence", message: "Evidence path not found: missing-a.txt" },
        { code: "missing_evidence", message: "Evidence path not found: docs/missing-b.log" },
      ]);
      expect(r.json.result).toMatchObject({
        primary_reason: "insufficient_evidence",
        reason_codes: ["insufficient_evidence"],
        scope_assessment: "narrow",
        profile_alignment: "in_profile",
      });
      expect(r.json.result.evidence).toEqual([
        {
          path: "evidence.txt",
          exists: true,
          bytes: Buffer.byteLength(EVIDENCE_TEXT),
          sha256: sha256(EVIDENCE_TEXT),
        },
        { path: "missing-a.txt", exists: false, bytes: null, sha256: null },
        { path: "docs/missing-b.log", exists: false, bytes: null, sha256: null },
      ]);
      expect(fake.requests).toHaveLength(0);
      expect(await sessionCount(h)).toBe(before);
    },
  );

  it("an evidence file outside the allowed dirs is refused, unread (absolute and relative)", async () => {
    const w = world();
    for (const p of [join(w.outside, "secret.txt"), "../outside/secret.txt"]) {
      const before = await sessionCount(w.h);
      const r = await verify(w.h, { task: NARROW_TASK, evidence_paths: ["evidence.txt", p] });
      expectEarlyFail(r, "policy_denied");
      expect(r.json.errors).toHaveLength(1);
      expect(r.json.result.evidence).toEqual([
        {
          path: "evidence.txt",
          exists: true,
          bytes: Buffer.byteLength(EVIDENCE_TEXT),
          sha256: sha256(EVIDENCE_TEXT),
        },
        { path: p, exists: true, bytes: null, sha256: null },
      ]);
      expect(r.text).not.toContain("TOP-SECRET-OUTSIDE");
      expect(r.text).not.toContain(sha256(SECRET_TEXT));
      expect(fake.requests).toHaveLength(0);
      expect(await sessionCount(w.h)).toBe(before);
    }
  });

  it("a symlink inside the allowed dir pointing out is refused", async () => {
    const { h } = world();
    const r = await verify(h, { task: NARROW_TASK, evidence_paths: ["link-out.txt"], fail_closed: false });
    expectEarlyFail(r, "policy_denied");
    expect(r.json.result.evidence).toEqual([
      { path: "link-out.txt", exists: true, bytes: null, sha256: null },
    ]);
    expect(r.text).not.toContain("TOP-SECRET-OUTSIDE");
    expect(fake.requests).toHaveLength(0);
  });

  it.each([
    [{ task: "Verify evidence.txt", evidence_paths: "notalist" }, "evidence_paths"],
    [{ task: "", evidence_paths: ["evidence.txt"] }, "task"],
    [{ task: "   ", evidence_paths: [] }, "task"],
    [{ evidence_paths: ["evidence.txt"] }, "task"],
    [{ task: "Verify evidence.txt", fail_closed: "maybe" }, "fail_closed"],
    [{ task: "Verify evidence.txt", evidence_paths: [42] }, "evidence_paths"],
  ])("bad arguments %j → validation_error naming %s, full shape", async (args, field) => {
    const { h } = world();
    const r = await verify(h, args);
    expectEarlyFail(r, "validation_error");
    expect(r.json.errors).toHaveLength(1);
    expect(r.json.errors[0].message).toContain(field);
    expect(r.json.summary).toBe(r.json.errors[0].message);
    expect(r.json.result.evidence).toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Evidence reaching the model; read-only runs

describe("evidence and the read-only run", () => {
  const world = useWorld();

  it("sends the evidence contents to the model and reports path/exists/bytes/sha256", async () => {
    const w = world();
    const nestedAbs = join(w.allowed, "docs", "CHANGELOG.md");
    fake.script(["VERDICT: pass\nFINDINGS:\n- Both files agree on 1.2.3.\n"]);
    const r = await verify(w.h, {
      task: "Verify that evidence.txt and the changelog agree on release 1.2.3",
      scope: "release metadata only",
      evidence_paths: ["evidence.txt", nestedAbs],
    });
    expectFullShape(r);
    expect(r.json.ok).toBe(true);
    const text = allText(fake.requests[0]!);
    expect(text).toContain(EVIDENCE_TEXT.trimEnd());
    expect(text).toContain(NESTED_TEXT.trimEnd());
    expect(text).toContain(sha256(EVIDENCE_TEXT));
    expect(text).toContain("release metadata only");
    expect(r.json.result.evidence).toEqual([
      {
        path: "evidence.txt",
        exists: true,
        bytes: readFileSync(join(w.allowed, "evidence.txt")).length,
        sha256: createHash("sha256")
          .update(readFileSync(join(w.allowed, "evidence.txt")))
          .digest("hex"),
      },
      {
        path: nestedAbs,
        exists: true,
        bytes: Buffer.byteLength(NESTED_TEXT),
        sha256: sha256(NESTED_TEXT),
      },
    ]);
  });

  it("cuts an oversized evidence file with a warning and flags a binary one; hashes stay whole-file", async () => {
    const w = world();
    const big = `${"0123456789abcdef".repeat(64)}\n`.repeat(150); // 153,750 bytes > the 100 KiB per-file limit
    writeFileSync(join(w.allowed, "big.log"), big);
    const bin = Buffer.from([
      0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x42, 0x49, 0x4e, 0x2d, 0x4d, 0x41, 0x52, 0x4b,
    ]);
    writeFileSync(join(w.allowed, "blob.bin"), bin);
    fake.script(["VERDICT: pass_with_restrictions\nRESTRICTIONS:\n- Only the head of big.log was shown.\n"]);
    const r = await verify(w.h, {
      task: "Verify that big.log and blob.bin exist",
      evidence_paths: ["big.log", "blob.bin"],
    });
    expectFullShape(r);
    expect(r.json.ok).toBe(true);
    expect(r.json.result.evidence).toEqual([
      { path: "big.log", exists: true, bytes: Buffer.byteLength(big), sha256: sha256(big) },
      {
        path: "blob.bin",
        exists: true,
        bytes: bin.length,
        sha256: createHash("sha256").update(bin).digest("hex"),
      },
    ]);
    const warnings: string[] = r.json.warnings;
    expect(warnings.some((x) => x.includes("big.log") && x.includes("truncated"))).toBe(true);
    expect(warnings.some((x) => x.includes("blob.bin") && x.includes("binary"))).toBe(true);
    const text = allText(fake.requests[0]!);
    expect(text).toContain(big.slice(0, 10_000));
    expect(text).not.toContain(big);
    expect(text).not.toContain("BIN-MARK");
  });

  it("offers only read-only tools plus submit_verdict, and a read_file call works", async () => {
    const { h } = world();
    fake.script([toolUseReply("read_file", { path: "evidence.txt" }), "VERDICT: pass\n"]);
    const r = await verify(h, { task: NARROW_TASK, evidence_paths: ["evidence.txt"] });
    expectFullShape(r);
    expect(r.json.result.verdict).toBe("pass");
    const names = (fake.requests[0]!.body.tools ?? []).map((t: { name: string }) => t.name);
    expect(names).toContain("submit_verdict");
    expect(names).toContain("read_file");
    expect(names).not.toContain("write_file");
    expect(names).not.toContain("edit_file");
    const [tr] = toolResults(fake.requests[1]!);
    expect(tr.is_error).toBe(false);
    expect(JSON.stringify(tr.content)).toContain("ZEBRA-4711-EVIDENCE");
  });

  // Currently FAILS: src/backends/api/api-backend.ts breaks out of the tool loop on the last turn
  // (`if (turns >= req.maxTurns)`) before recording the turn's tool calls, so a submit_verdict made
  // on turn 5 is dropped and the run is reported as api_empty_response / unavailable.
  it("a submit_verdict call on the last allowed turn still counts", async () => {
    const { h } = world();
    // The verification profile allows 5 turns: four read_file calls, then the verdict on turn 5.
    fake.script([
      ...Array.from({ length: 4 }, () => toolUseReply("read_file", { path: "evidence.txt" })),
      submit("pass", { findings: ["Release 1.2.3 is stated."] }),
    ]);
    const r = await verify(h, { task: NARROW_TASK, evidence_paths: ["evidence.txt"] });
    expectFullShape(r);
    expect(fake.requests).toHaveLength(5);
    expect(r.json.result).toMatchObject({
      verdict: "pass",
      model_verdict: "pass",
      findings: ["Release 1.2.3 is stated."],
      outcome_kind: "verified",
    });
  });

  it("cannot write or edit a file even when the model asks for write_file / edit_file", async () => {
    const w = world();
    const target = join(w.allowed, "pwned.txt");
    fake.script([
      toolUseReply("write_file", { path: "pwned.txt", content: "owned" }),
      toolUseReply("edit_file", { path: "evidence.txt", old_string: "1.2.3", new_string: "9.9.9" }),
      "VERDICT: fail_closed\nFINDINGS:\n- Writing was refused.\n",
    ]);
    const r = await verify(w.h, { task: NARROW_TASK, evidence_paths: ["evidence.txt"] });
    expectFullShape(r);
    expect(r.json.result).toMatchObject({ verdict: "fail_closed", model_verdict: "fail_closed" });
    expect(fake.requests).toHaveLength(3);
    for (const req of fake.requests) {
      const names = (req.body.tools ?? []).map((t: { name: string }) => t.name);
      expect(names).not.toContain("write_file");
      expect(names).not.toContain("edit_file");
    }
    for (const i of [1, 2]) {
      const trs = toolResults(fake.requests[i]!);
      expect(trs).toHaveLength(1);
      expect(trs[0].is_error).toBe(true);
    }
    expect(existsSync(target)).toBe(false);
    expect(readFileSync(join(w.allowed, "evidence.txt"), "utf8")).toBe(EVIDENCE_TEXT);

    const get = await w.h.call("agent_get_session", { session_id: r.json.session_id, include_events: true });
    const calls = get.json.events.filter((e: { event_type: string }) => e.event_type === "tool_call");
    expect(
      calls.map((e: { payload: { tool: string; ok: boolean } }) => [e.payload.tool, e.payload.ok]),
    ).toEqual([
      ["write_file", false],
      ["edit_file", false],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Failure classes of the api backend

describe("api failures → unavailable", () => {
  const world = useWorld();

  it.each([
    ["401", errorReply(401, "invalid x-api-key"), "backend_auth_failure", "api_auth_failed", false],
    ["429", errorReply(429, "slow down"), "backend_limit_reached", "api_rate_limited", true],
    ["500", errorReply(500, "boom"), "backend_unavailable", "api_overloaded", true],
    ["529", errorReply(529, "Overloaded"), "backend_unavailable", "api_overloaded", true],
    ["dropped connection", { drop: true } as const, "backend_unavailable", "api_connection_error", true],
    ["empty text reply", "", "backend_unusable_response", "api_empty_response", true],
    ["whitespace-only reply", "  \n\t ", "backend_unusable_response", "api_empty_response", true],
  ] as Array<[string, FakeReply, string, string, boolean]>)(
    "%s → %s / %s",
    async (_label, reply, cls, code, retryable) => {
      const { h } = world();
      fake.script([reply]);
      const r = await verify(h, { task: NARROW_TASK, evidence_paths: ["evidence.txt"] });
      expectFullShape(r);
      expect(r.json).toMatchObject({ ok: false, status: "failed", artifacts: [] });
      expect(r.json.session_id).toMatch(/^sess_/);
      expect(r.json.summary).toMatch(/^Verification unavailable: /);
      expect(r.json.result).toMatchObject({
        verdict: "fail_closed",
        findings: [],
        contradictions: [],
        missing_evidence: [],
        restrictions: [],
        decision: "unavailable",
        outcome_kind: "unavailable",
        primary_reason: "insufficient_evidence",
        reason_codes: ["insufficient_evidence"],
        evidence_sufficiency: "insufficient",
        scope_assessment: "narrow",
        profile_alignment: "in_profile",
        failure_class: cls,
        failure_code: code,
        retryable,
        fallback_recommended: true,
        verification_performed: false,
        model_verdict: null,
      });
      expect(r.json.result.evidence).toEqual([
        {
          path: "evidence.txt",
          exists: true,
          bytes: Buffer.byteLength(EVIDENCE_TEXT),
          sha256: sha256(EVIDENCE_TEXT),
        },
      ]);
      expect(r.json.errors).toHaveLength(1);
      expect(r.json.errors[0].code).toBe(code);
      expect(r.json.errors[0].details).toMatchObject({
        failure_class: cls,
        failure_code: code,
        retryable,
        fallback_recommended: true,
      });
      expect(r.text).not.toContain("sk-");
      // One scripted reply = one request (no retries with CLAUDE_AGENT_MCP_API_MAX_RETRIES=0).
      expect(fake.requests).toHaveLength(1);

      const get = await h.call("agent_get_session", { session_id: r.json.session_id, include_events: true });
      expect(get.json.status).toBe("failed");
      expect(get.json.latest_result).toEqual(r.json);
      expect(get.json.events.map((e: { event_type: string }) => e.event_type)).toContain("error_event");
    },
  );

  it("the unavailable result keeps the preflight assessment", async () => {
    const { h } = world();
    fake.script([errorReply(429, "slow down")]);
    const r = await verify(h, { task: "Check everything in the whole system" });
    expectFullShape(r);
    expect(r.json.result).toMatchObject({
      outcome_kind: "unavailable",
      scope_assessment: "too_broad",
      profile_alignment: "in_profile",
      failure_code: "api_rate_limited",
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Report artifact and session events

describe("report artifact and events", () => {
  const world = useWorld();

  it("saves verification-report.md and records the verdict in the session events", async () => {
    const w = world();
    const answer =
      "Looked at the file.\n\nVERDICT: pass_with_restrictions\nFINDINGS:\n- Release 1.2.3 is stated.\nRESTRICTIONS:\n- Text only.\n";
    fake.script([answer]);
    const r = await verify(w.h, { task: NARROW_TASK, evidence_paths: ["evidence.txt"], fail_closed: true });
    expectFullShape(r);
    expect(r.json.summary).toBe("Verification pass_with_restrictions: 1 finding(s)");
    // The raw model text is in the artifact, not in the result.
    expect(JSON.stringify(r.json.result)).not.toContain("Looked at the file.");

    expect(r.json.artifacts).toHaveLength(1);
    const art = r.json.artifacts[0];
    expect(art).toMatchObject({
      logical_name: "verification-report.md",
      artifact_type: "verification-report",
      mime_type: "text/markdown",
    });
    const body = readFileSync(
      join(w.state, "artifacts", r.json.session_id, `${art.artifact_id}-verification-report.md`),
      "utf8",
    );
    expect(art.size_bytes).toBe(Buffer.byteLength(body));
    expect(body).toContain("# Verification report");
    expect(body).toContain("pass_with_restrictions");
    expect(body).toContain(NARROW_TASK);
    expect(body).toContain(sha256(EVIDENCE_TEXT));
    expect(body).toContain("Looked at the file.");

    const get = await w.h.call("agent_get_session", { session_id: r.json.session_id, include_events: true });
    expect(get.json).toMatchObject({ status: "completed", workflow: "verify_task", profile: "verification" });
    expect(get.json.latest_result).toEqual(r.json);
    // biome-ignore lint/suspicious/noExplicitAny: event payloads are free-form JSON
    const events: Array<{ event_type: string; payload: any }> = get.json.events;
    const types = events.map((e) => e.event_type);
    for (const t of [
      "user_input",
      "policy_decision",
      "provider_request_start",
      "provider_response_summary",
      "workflow_normalization",
    ]) {
      expect(types, t).toContain(t);
    }
    const summary = events.find((e) => e.event_type === "provider_response_summary")!;
    expect(summary.payload).toMatchObject({ verdict: "pass_with_restrictions", summary: r.json.summary });
    const norm = events.find((e) => e.event_type === "workflow_normalization")!;
    expect(norm.payload).toMatchObject({
      verdict: "pass_with_restrictions",
      model_verdict: "pass_with_restrictions",
    });
    const policy = events.find((e) => e.event_type === "policy_decision")!;
    expect(policy.payload).toMatchObject({ fail_closed: true, evidence_paths: ["evidence.txt"] });
    expect(policy.payload.tools).not.toContain("write_file");
  });

  it("records the fail-closed normalisation of an insufficient answer", async () => {
    const w = world();
    fake.script(["VERDICT: insufficient_evidence\n"]);
    const r = await verify(w.h, { task: NARROW_TASK, evidence_paths: ["evidence.txt"], fail_closed: true });
    expect(r.json.result).toMatchObject({ verdict: "fail_closed", model_verdict: "insufficient_evidence" });
    const get = await w.h.call("agent_get_session", { session_id: r.json.session_id, include_events: true });
    // biome-ignore lint/suspicious/noExplicitAny: event payloads are free-form JSON
    const norm = get.json.events.find((e: any) => e.event_type === "workflow_normalization");
    expect(norm.payload).toMatchObject({ verdict: "fail_closed", model_verdict: "insufficient_evidence" });
  });
});

// ---------------------------------------------------------------------------------------------
// Long runs: wait_seconds and cancellation

describe("wait_seconds and cancellation", () => {
  const world = useWorld();

  it("a verify run collected later with agent_get_session has the full shape", async () => {
    const { h } = world();
    fake.script([{ text: "VERDICT: pass\nFINDINGS:\n- ok\n", delayMs: 2000 }]);
    const r = await verify(h, { task: NARROW_TASK, evidence_paths: ["evidence.txt"], wait_seconds: 1 });
    expect(r.json).toMatchObject({
      ok: true,
      status: "running",
      workflow: "verify_task",
      profile: "verification",
    });
    expect(r.json.session_id).toMatch(/^sess_/);
    const get = await h.call("agent_get_session", { session_id: r.json.session_id, wait_seconds: 10 });
    expect(get.json.status).toBe("completed");
    const latest = get.json.latest_result;
    expect(Object.keys(latest)).toEqual(ENVELOPE_KEYS);
    expect(Object.keys(latest.result)).toEqual(RESULT_KEYS);
    expect(latest.result).toMatchObject({
      verdict: "pass",
      model_verdict: "pass",
      verification_performed: true,
    });
  });

  it("a cancelled verify run stores a fail_closed result with the full shape", async () => {
    const { h } = world();
    fake.script([{ hang: true }]);
    const r = await verify(h, { task: NARROW_TASK, evidence_paths: ["evidence.txt"], wait_seconds: 1 });
    expect(r.json.status).toBe("running");
    const c = await h.call("agent_cancel_session", { session_id: r.json.session_id });
    expect(c.json.ok).toBe(true);
    const get = await h.call("agent_get_session", { session_id: r.json.session_id, wait_seconds: 10 });
    expect(get.json.status).toBe("cancelled");
    const latest = get.json.latest_result;
    expect(Object.keys(latest)).toEqual(ENVELOPE_KEYS);
    expect(latest).toMatchObject({ ok: false, status: "cancelled" });
    expect(Object.keys(latest.result)).toEqual(RESULT_KEYS);
    expect(latest.result).toMatchObject({
      verdict: "fail_closed",
      outcome_kind: "not_verified",
      verification_performed: false,
      failure_class: null,
      model_verdict: null,
    });
    expect(latest.errors[0].code).toBe("run_cancelled");
  });
});
