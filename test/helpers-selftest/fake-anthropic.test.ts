import Anthropic, {
  APIConnectionError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  RateLimitError,
} from "@anthropic-ai/sdk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  allText,
  errorReply,
  type FakeAnthropic,
  lastUserText,
  startFakeAnthropic,
  toolUseReply,
} from "../helpers/fake-anthropic.js";

const KEY = "sk-ant-test-key-1234567890";

let fake: FakeAnthropic;
let client: Anthropic;

beforeEach(async () => {
  fake = await startFakeAnthropic();
  client = new Anthropic({ apiKey: KEY, baseURL: fake.url, maxRetries: 0 });
});

afterEach(async () => {
  await fake.close();
});

const params = (text: string) => ({
  model: "claude-fake-model",
  max_tokens: 100,
  messages: [{ role: "user" as const, content: text }],
});

async function expectError(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail");
}

describe("fake Anthropic API with the real SDK", () => {
  it("answers a plain JSON message (default echo of the last user text)", async () => {
    const msg = await client.messages.create(params("hello there"));
    expect(msg.type).toBe("message");
    expect(msg.role).toBe("assistant");
    expect(msg.model).toBe("claude-fake-model");
    expect(msg.id).toMatch(/^msg_/);
    expect(msg.stop_reason).toBe("end_turn");
    expect(msg.stop_sequence).toBeNull();
    expect(msg.content).toEqual([{ type: "text", text: "Echo: hello there" }]);
    expect(msg.usage.input_tokens).toBe(10);
    expect(msg.usage.output_tokens).toBe(5);
  });

  it("serves scripted replies in order, then the handler, then the default", async () => {
    fake.script(["first", { text: "second", usage: { input_tokens: 7, output_tokens: 3 } }]);
    fake.handler = (req) => (lastUserText(req) === "q3" ? "from handler" : undefined);
    const texts: string[] = [];
    for (const q of ["q1", "q2", "q3", "q4"]) {
      const m = await client.messages.create(params(q));
      texts.push(m.content[0]?.type === "text" ? m.content[0].text : "");
    }
    expect(texts).toEqual(["first", "second", "from handler", "Echo: q4"]);
    expect(fake.pending).toBe(0);
  });

  it("streams SSE that client.messages.stream().finalMessage() accepts", async () => {
    const long = "streamed text that is longer than one chunk of sixteen characters";
    fake.enqueue({ text: long, usage: { input_tokens: 12, output_tokens: 9 } });
    const stream = client.messages.stream(params("stream please"));
    const deltas: string[] = [];
    stream.on("text", (t) => deltas.push(t));
    const msg = await stream.finalMessage();
    expect(msg.content).toEqual([{ type: "text", text: long }]);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join("")).toBe(long);
    expect(msg.stop_reason).toBe("end_turn");
    expect(msg.usage.input_tokens).toBe(12);
    expect(msg.usage.output_tokens).toBe(9);
    expect(fake.requests[0]?.stream).toBe(true);
  });

  it("returns tool_use blocks (JSON and streaming)", async () => {
    const input = { path: "src/a.ts", options: { lines: [1, 2, 3], note: "x".repeat(40) } };
    fake.enqueue(toolUseReply("read_file", input, { text: "Let me look.", toolUseId: "toolu_1" }));
    fake.enqueue({
      toolUse: [
        { name: "a", input: { n: 1 } },
        { name: "b", input: { n: 2 } },
      ],
    });
    const m1 = await client.messages.create(params("use a tool"));
    expect(m1.stop_reason).toBe("tool_use");
    expect(m1.content).toEqual([
      { type: "text", text: "Let me look." },
      { type: "tool_use", id: "toolu_1", name: "read_file", input },
    ]);
    const m2 = await client.messages.stream(params("two tools")).finalMessage();
    expect(m2.stop_reason).toBe("tool_use");
    const uses = m2.content.filter((b) => b.type === "tool_use");
    expect(uses.map((b) => (b.type === "tool_use" ? [b.name, b.input] : null))).toEqual([
      ["a", { n: 1 }],
      ["b", { n: 2 }],
    ]);
    expect(uses.every((b) => b.type === "tool_use" && /^toolu_/.test(b.id))).toBe(true);
  });

  it("mixed content with an explicit stop_reason", async () => {
    fake.enqueue({
      content: [
        { type: "text", text: "a" },
        { type: "tool_use", name: "t", input: {} },
        { type: "text", text: "b" },
      ],
      stop_reason: "max_tokens",
    });
    const m = await client.messages.stream(params("mixed")).finalMessage();
    expect(m.content.map((b) => b.type)).toEqual(["text", "tool_use", "text"]);
    expect(m.stop_reason).toBe("max_tokens");
  });

  it("401 → AuthenticationError with the Anthropic error body", async () => {
    fake.enqueue(errorReply(401, "bad key"));
    const err = await expectError(client.messages.create(params("x")));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as APIError).status).toBe(401);
    expect((err as APIError).error).toMatchObject({
      type: "error",
      error: { type: "authentication_error", message: "bad key" },
    });
    expect((err as APIError).requestID).toMatch(/^req_fake_/);
  });

  it("429 → RateLimitError, 500 → InternalServerError, 529 → status 529, 400 → BadRequestError", async () => {
    fake.script([errorReply(429), errorReply(500), errorReply(529), errorReply(400, "bad")]);
    const e429 = await expectError(client.messages.create(params("x")));
    expect(e429).toBeInstanceOf(RateLimitError);
    const e500 = await expectError(client.messages.create(params("x")));
    expect(e500).toBeInstanceOf(InternalServerError);
    expect((e500 as APIError).status).toBe(500);
    const e529 = await expectError(client.messages.stream(params("x")).finalMessage());
    expect(e529).toBeInstanceOf(InternalServerError);
    expect((e529 as APIError).status).toBe(529);
    expect((e529 as APIError).error).toMatchObject({ error: { type: "overloaded_error" } });
    const e400 = await expectError(client.messages.create(params("x")));
    expect(e400).toBeInstanceOf(BadRequestError);
  });

  it("error replies carry retry-after-ms so a retrying SDK client retries at once", async () => {
    const retrying = new Anthropic({ apiKey: KEY, baseURL: fake.url, maxRetries: 2 });
    fake.script([errorReply(529), errorReply(500), "recovered"]);
    const t0 = Date.now();
    const m = await retrying.messages.create(params("x"));
    expect(m.content[0]).toEqual({ type: "text", text: "recovered" });
    expect(Date.now() - t0).toBeLessThan(400);
    expect(fake.requests.map((r) => r.status)).toEqual([529, 500, 200]);
  });

  it("an in-stream error event fails the stream", async () => {
    fake.enqueue(errorReply(529, "Overloaded", { inStream: true }));
    const err = await expectError(client.messages.stream(params("x")).finalMessage());
    expect(err).toBeInstanceOf(APIError);
    expect(String((err as Error).message)).toContain("overloaded_error");
  });

  it("drop → APIConnectionError (JSON and mid-stream)", async () => {
    fake.enqueue({ drop: true });
    const e1 = await expectError(client.messages.create(params("x")));
    expect(e1).toBeInstanceOf(APIConnectionError);
    fake.enqueue({ text: "y".repeat(200), dropAfterEvents: 4 });
    const e2 = await expectError(client.messages.stream(params("x")).finalMessage());
    expect(e2).toBeInstanceOf(Error);
    expect(fake.requests.map((r) => [r.outcome, r.aborted])).toEqual([
      ["drop", false],
      ["drop", false],
    ]);
    await fake.waitForIdle();
    expect(fake.inFlight).toBe(0);
  });

  it("abort during a delay: recorded as aborted, inFlight back to 0", async () => {
    fake.enqueue({ text: "late", delayMs: 5_000 });
    const ac = new AbortController();
    const p = client.messages.create(params("slow"), { signal: ac.signal });
    await fake.waitForRequests(1);
    expect(fake.inFlight).toBe(1);
    ac.abort();
    const err = await expectError(p);
    expect(err).toBeInstanceOf(APIUserAbortError);
    await fake.waitForIdle(2_000);
    expect(fake.inFlight).toBe(0);
    expect(fake.requests[0]?.aborted).toBe(true);
    expect(fake.requests[0]!.endTime! - fake.requests[0]!.time).toBeLessThan(2_000);
  });

  it("hang: never answers until the client goes away", async () => {
    fake.enqueue({ hang: true });
    const ac = new AbortController();
    const p = client.messages.stream(params("hang"), { signal: ac.signal }).finalMessage();
    await fake.waitForRequests(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.inFlight).toBe(1);
    ac.abort();
    await expectError(p);
    await fake.waitForIdle(2_000);
    expect(fake.requests[0]).toMatchObject({ outcome: "hang", aborted: true });
  });

  it("a client timeout on a hang → APIConnectionTimeoutError-class error", async () => {
    fake.enqueue({ hang: true });
    const quick = new Anthropic({ apiKey: KEY, baseURL: fake.url, maxRetries: 0, timeout: 200 });
    const err = await expectError(quick.messages.create(params("x")));
    expect(err).toBeInstanceOf(APIConnectionError);
    expect((err as Error).constructor.name).toBe("APIConnectionTimeoutError");
    await fake.waitForIdle(2_000);
  });

  it("logs requests: parsed body, masked secrets, auth scheme, text helpers", async () => {
    await client.messages.create({
      model: "claude-fake-model",
      max_tokens: 50,
      system: "SYSTEM PROMPT",
      messages: [
        { role: "user", content: "the task" },
        {
          role: "assistant",
          content: [
            { type: "text", text: "earlier answer" },
            { type: "tool_use", id: "toolu_9", name: "read", input: { path: "e.txt" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_9", content: "EVIDENCE CONTENTS" },
            { type: "text", text: "<system-reminder>ignore me</system-reminder>" },
            { type: "text", text: "and continue" },
          ],
        },
      ],
    });
    const req = fake.requests[0]!;
    expect(req.index).toBe(0);
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/v1/messages");
    expect(req.stream).toBe(false);
    expect(req.auth).toBe("bearer");
    expect(req.headers.authorization).toBe("Bearer ***7890");
    expect(JSON.stringify(req.headers)).not.toContain(KEY);
    expect(req.body.model).toBe("claude-fake-model");
    expect(req.body.messages).toHaveLength(3);
    expect(req.aborted).toBe(false);
    expect(req.outcome).toBe("message");
    expect(typeof req.time).toBe("number");
    expect(lastUserText(req)).toBe("EVIDENCE CONTENTS\nand continue");
    const all = allText(req);
    for (const s of ["SYSTEM PROMPT", "the task", "earlier answer", "e.txt", "EVIDENCE CONTENTS"]) {
      expect(all).toContain(s);
    }
  });

  it("accepts x-api-key (claude CLI style, ?beta=true, trailing system message) and rejects no key", async () => {
    const body = {
      model: "m",
      max_tokens: 10,
      stream: true,
      messages: [
        { role: "user", content: [{ type: "text", text: "cli prompt" }] },
        { role: "system", content: "appended by the cli" },
      ],
    };
    const res = await fetch(`${fake.url}/v1/messages?beta=true`, {
      method: "POST",
      headers: { "x-api-key": "dummy", "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const sse = await res.text();
    const events = [...sse.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events[0]).toBe("message_start");
    expect(events).toContain("content_block_delta");
    expect(events.slice(-2)).toEqual(["message_delta", "message_stop"]);
    expect(sse).toContain("Echo: cli prompt");
    expect(fake.requests[0]?.auth).toBe("x-api-key");
    expect(fake.requests[0]?.headers["x-api-key"]).toBe("***");

    const noKey = await fetch(`${fake.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    expect(fake.requests[1]?.outcome).toBe("rejected");
  });

  it("opts.apiKey enforces the key", async () => {
    const strict = await startFakeAnthropic({ apiKey: "right-key" });
    try {
      const wrong = new Anthropic({ apiKey: "wrong-key", baseURL: strict.url, maxRetries: 0 });
      expect(await expectError(wrong.messages.create(params("x")))).toBeInstanceOf(AuthenticationError);
      const right = new Anthropic({ apiKey: "right-key", baseURL: strict.url, maxRetries: 0 });
      expect((await right.messages.create(params("x"))).content[0]).toEqual({
        type: "text",
        text: "Echo: x",
      });
    } finally {
      await strict.close();
    }
  });

  it("close() ends hanging requests and frees the port", async () => {
    const other = await startFakeAnthropic();
    other.enqueue({ hang: true });
    const c = new Anthropic({ apiKey: KEY, baseURL: other.url, maxRetries: 0 });
    const p = c.messages.create(params("x"));
    await other.waitForRequests(1);
    await other.close();
    expect(await expectError(p)).toBeInstanceOf(APIConnectionError);
    expect(other.inFlight).toBe(0);
  });
});
