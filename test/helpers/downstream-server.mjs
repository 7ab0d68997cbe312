#!/usr/bin/env node
// A small downstream MCP server for the federation tests, built on the SDK's low-level Server so that
// tools/list can be paginated. Runs over stdio (default) or streamable HTTP (`--http <port>`, 0 = any;
// prints `LISTENING <port>` on stderr).
//
// Flags:
//   --page-size N        tools/list page size (default: all tools on one page)
//   --extra-tools N      add N filler tools named filler_0..filler_{N-1} (pagination tests)
//   --start-delay MS     wait before answering anything (discovery-not-blocking tests)
//   --hang-on-start      never answer initialize (discovery timeout tests)
//   --crash-on-start     exit 2 immediately (discovery failure tests)
//   --crash-on-start-once FILE  exit 2 unless FILE exists (creating it): fails only the first start
//   --name NAME          serverInfo.name
//
// Tools: echo, add, slow (hangs unless `seconds` is given), crash (exits mid-call), fail (isError),
// big (large text), image (binary image block), env_keys (names of its environment variables),
// pid, structured (structuredContent only), bad.name (not a valid Anthropic tool name), read_only
// (readOnlyHint annotation).
import { existsSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const opt = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
};

const onceMarker = opt("--crash-on-start-once", null);
if (onceMarker && !existsSync(onceMarker)) {
  writeFileSync(onceMarker, "crashed once\n");
  process.stderr.write("downstream: crashing on first start as asked\n");
  process.exit(2);
}
if (flag("--crash-on-start")) {
  process.stderr.write("downstream: crashing on start as asked\n");
  process.exit(2);
}

const pageSize = Number(opt("--page-size", "0"));
const extraTools = Number(opt("--extra-tools", "0"));
const startDelay = Number(opt("--start-delay", "0"));
const serverName = opt("--name", "test-downstream");

const obj = (properties, required = []) => ({ type: "object", properties, required });

const TOOLS = [
  {
    name: "echo",
    description: "Echo the text back",
    inputSchema: obj({ text: { type: "string" } }, ["text"]),
  },
  {
    name: "add",
    description: "Add two numbers",
    inputSchema: obj({ a: { type: "number" }, b: { type: "number" } }, ["a", "b"]),
  },
  {
    name: "slow",
    description: "Sleep for `seconds` (hangs forever when not given)",
    inputSchema: obj({ seconds: { type: "number" } }),
  },
  { name: "crash", description: "Exit the process in the middle of the call", inputSchema: obj({}) },
  {
    name: "fail",
    description: "Return a tool error",
    inputSchema: obj({ reason: { type: "string" } }),
  },
  {
    name: "big",
    description: "Return `size` characters of text",
    inputSchema: obj({ size: { type: "integer", minimum: 0 } }, ["size"]),
  },
  { name: "image", description: "Return a small PNG image", inputSchema: obj({}) },
  { name: "env_keys", description: "List the names of the environment variables", inputSchema: obj({}) },
  { name: "pid", description: "Return the process id", inputSchema: obj({}) },
  {
    name: "structured",
    description: "Return structured content only",
    inputSchema: obj({ n: { type: "integer" } }),
  },
  { name: "bad.name", description: "A tool name with a dot", inputSchema: obj({}) },
  {
    name: "read_only",
    description: "A read-only lookup",
    inputSchema: obj({ key: { type: "string", enum: ["a", "b"] } }, ["key"]),
    annotations: { readOnlyHint: true },
  },
];
for (let i = 0; i < extraTools; i++) {
  TOOLS.push({ name: `filler_${i}`, description: `Filler tool ${i}`, inputSchema: obj({}) });
}

// 1x1 transparent PNG.
const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const text = (t) => ({ content: [{ type: "text", text: t }] });

async function callTool(name, args) {
  switch (name) {
    case "echo":
      return text(String(args.text));
    case "add":
      return text(String(Number(args.a) + Number(args.b)));
    case "slow":
      if (typeof args.seconds === "number") {
        await sleep(args.seconds * 1000);
        return text(`slept ${args.seconds}s`);
      }
      return new Promise(() => {});
    case "crash":
      process.stderr.write("downstream: crashing mid-call as asked\n");
      setTimeout(() => process.exit(3), 10);
      return new Promise(() => {});
    case "fail":
      return { content: [{ type: "text", text: `it failed: ${args.reason ?? "no reason"}` }], isError: true };
    case "big":
      return text("x".repeat(Number(args.size)));
    case "image":
      return {
        content: [
          { type: "text", text: "here is an image" },
          { type: "image", data: PNG, mimeType: "image/png" },
        ],
      };
    case "env_keys":
      return text(JSON.stringify(Object.keys(process.env).sort()));
    case "pid":
      return text(String(process.pid));
    case "structured":
      return { content: [], structuredContent: { n: args.n ?? 0, doubled: (args.n ?? 0) * 2 } };
    case "bad.name":
    case "read_only":
      return text(`${name} ok`);
    default:
      if (name.startsWith("filler_")) return text(name);
      return { content: [{ type: "text", text: `unknown tool ${name}` }], isError: true };
  }
}

function makeServer() {
  const server = new Server({ name: serverName, version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async (req) => {
    if (startDelay) await sleep(startDelay);
    if (!pageSize) return { tools: TOOLS };
    const start = req.params?.cursor ? Number(req.params.cursor) : 0;
    const page = TOOLS.slice(start, start + pageSize);
    const next = start + pageSize;
    return next < TOOLS.length ? { tools: page, nextCursor: String(next) } : { tools: page };
  });
  server.setRequestHandler(CallToolRequestSchema, async (req) =>
    callTool(req.params.name, req.params.arguments ?? {}),
  );
  return server;
}

async function main() {
  process.stderr.write(`downstream: starting ${serverName} pid ${process.pid}\n`);
  if (flag("--hang-on-start")) {
    setInterval(() => {}, 1000);
    return;
  }
  if (startDelay) await sleep(startDelay);
  const httpPort = opt("--http", null);
  if (httpPort === null) {
    await makeServer().connect(new StdioServerTransport());
    return;
  }
  const sessions = new Map();
  const http = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined;
    const sid = req.headers["mcp-session-id"];
    if (req.headers["x-test-token"] !== (process.env.DOWNSTREAM_TOKEN ?? req.headers["x-test-token"])) {
      res.writeHead(401).end("bad token");
      return;
    }
    let transport = typeof sid === "string" ? sessions.get(sid) : undefined;
    if (!transport) {
      if (typeof sid === "string") {
        res.writeHead(404).end("unknown session");
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => crypto.randomUUID(),
        onsessioninitialized: (id) => sessions.set(id, transport),
      });
      await makeServer().connect(transport);
    }
    await transport.handleRequest(req, res, body);
  });
  http.listen(Number(httpPort), "127.0.0.1", () => {
    process.stderr.write(`LISTENING ${http.address().port}\n`);
  });
}

main().catch((err) => {
  process.stderr.write(`downstream: ${err?.stack ?? err}\n`);
  process.exit(1);
});
