// A minimal, fast fake of the Anthropic Messages API for benchmarks (plain JS, no TS loader):
// POST /v1/messages answers a non-streaming JSON Message ("Echo: <last user text>") after
// `latencyMs` (0 = at once). Anything else is a 404 in the Anthropic error shape. 127.0.0.1 only.
// The full-featured fake for tests is test/helpers/fake-anthropic.ts; this one does one thing cheaply
// so that the benchmark measures the server, not the fake.
import { createServer } from "node:http";

/**
 * @param {{ latencyMs?: number }} [opts]
 * @returns {Promise<{ url: string, requests: () => number, setLatency: (ms: number) => void, close: () => Promise<void> }>}
 */
export async function startFakeApi(opts = {}) {
  let latencyMs = opts.latencyMs ?? 0;
  let count = 0;
  let seq = 0;
  const sockets = new Set();

  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0];
      if (req.method !== "POST" || path !== "/v1/messages") {
        send(res, 404, {
          type: "error",
          error: { type: "not_found_error", message: `no route ${req.method} ${path}` },
        });
        return;
      }
      count++;
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        send(res, 400, { type: "error", error: { type: "invalid_request_error", message: "bad JSON" } });
        return;
      }
      const reply = {
        id: `msg_bench_${++seq}`,
        type: "message",
        role: "assistant",
        model: body.model ?? "claude-bench",
        content: [{ type: "text", text: `Echo: ${lastUserText(body)}` }],
        stop_reason: "end_turn",
        stop_sequence: null,
        usage: { input_tokens: 12, output_tokens: 6 },
      };
      if (latencyMs > 0) {
        const t = setTimeout(() => send(res, 200, reply), latencyMs);
        res.on("close", () => clearTimeout(t));
      } else {
        send(res, 200, reply);
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => count,
    setLatency: (ms) => {
      latencyMs = ms;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function send(res, status, obj) {
  if (res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(obj);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "request-id": `req_bench_${Date.now()}`,
  });
  res.end(text);
}

function lastUserText(body) {
  const msgs = Array.isArray(body.messages) ? body.messages : [];
  for (let i = msgs.length - 1; i >= 0; i--) {
    const m = msgs[i];
    if (m?.role !== "user") continue;
    if (typeof m.content === "string") return m.content.slice(0, 200);
    if (Array.isArray(m.content)) {
      const t = m.content.find((b) => b?.type === "text");
      if (t) return String(t.text).slice(0, 200);
    }
  }
  return "";
}
