import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadFederationConfig, setupFederation } from "../../src/federation/index.js";
import { silentLogger } from "../../src/log.js";
import { writeConfigFile } from "../helpers/downstream-server.js";

function problemsOf(content: unknown, raw = false): string[] {
  const r = loadFederationConfig(writeConfigFile(content, raw));
  if (r.ok) throw new Error(`expected problems, got ok: ${JSON.stringify(r.config)}`);
  return r.problems;
}

const server = (over: Record<string, unknown> = {}) => ({
  name: "notes",
  command: "node",
  args: ["server.js"],
  allowed_tools: ["search_notes"],
  profiles_allowed: ["general"],
  ...over,
});

describe("loadFederationConfig", () => {
  it("accepts upstream's example and applies defaults", () => {
    const path = writeConfigFile({
      downstream_servers: [
        {
          name: "notes",
          transport: "stdio",
          command: "node",
          args: ["/opt/mcp/notes-server/dist/index.js", "--read-only"],
          env: { NOTES_ROOT: "/srv/notes" },
          enabled: true,
          discovery_timeout_seconds: 15,
          allowed_tools: ["search_notes", "get_note"],
          profiles_allowed: ["general"],
        },
        {
          name: "tickets",
          command: "python3",
          args: ["-m", "ticket_mcp"],
          allowed_tools: ["lookup_ticket"],
          profiles_allowed: ["general", "verification"],
          enabled: false,
        },
      ],
    });
    const r = loadFederationConfig(path);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.warnings).toEqual([]);
    expect(r.config.path).toBe(path);
    const [notes, tickets] = r.config.servers;
    expect(notes).toMatchObject({
      name: "notes",
      transport: "stdio",
      command: "node",
      env: { NOTES_ROOT: "/srv/notes" },
      enabled: true,
      discoveryTimeoutSeconds: 15,
      callTimeoutSeconds: 60,
      maxResultChars: 50_000,
      allowedTools: ["search_notes", "get_note"],
      profilesAllowed: ["general"],
      cwd: null,
    });
    expect(tickets).toMatchObject({ transport: "stdio", enabled: false, discoveryTimeoutSeconds: 10 });
  });

  it("accepts the http transport with url and headers", () => {
    const r = loadFederationConfig(
      writeConfigFile({
        downstream_servers: [
          {
            name: "remote",
            transport: "HTTP",
            url: "http://127.0.0.1:9000/mcp",
            headers: { Authorization: "Bearer abc" },
            allowed_tools: ["x"],
            profiles_allowed: ["general"],
            call_timeout_seconds: 5,
          },
        ],
      }),
    );
    expect(r.ok).toBe(true);
    if (r.ok)
      expect(r.config.servers[0]).toMatchObject({
        transport: "http",
        url: "http://127.0.0.1:9000/mcp",
        headers: { Authorization: "Bearer abc" },
        callTimeoutSeconds: 5,
      });
  });

  it("reports file-level problems naming the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "fed-"));
    const missing = loadFederationConfig(join(dir, "nope.json"));
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.problems[0]).toMatch(/nope\.json: file does not exist/);
    const isDir = loadFederationConfig(dir);
    if (!isDir.ok) expect(isDir.problems[0]).toMatch(/is a directory/);
    expect(problemsOf("{not json", true)[0]).toMatch(/federation\.json: invalid JSON/);
    expect(problemsOf([1, 2])[0]).toMatch(/top level must be a JSON object/);
    expect(problemsOf({ downstream_servers: {} })[0]).toMatch(/downstream_servers must be an array/);
    expect(problemsOf({ downstream_server: [] })[0]).toMatch(/unknown key "downstream_server"/);
  });

  it("rejects bad fields, naming the server and the field", () => {
    const problems = problemsOf({
      downstream_servers: [
        server({ enabled: "false" }),
        server({ name: "two", discovery_timeout_seconds: "15" }),
        server({ name: "three", profiles_allowed: ["general", "admin"] }),
        server({ name: "four", command: "" }),
        server({ name: "five", args: ["ok", 3] }),
        server({ name: "six", env: { GOOD: "1", BAD: true } }),
        server({ name: "seven", allowed_tool: ["x"] }),
        server({ name: "eight", transport: "sse" }),
        server({ name: "nine", discovery_timeout_seconds: 0 }),
        "not an object",
      ],
    });
    const text = problems.join("\n");
    expect(text).toMatch(/downstream_servers\[0\] \("notes"\)\.enabled must be true or false/);
    expect(text).toMatch(/\("two"\)\.discovery_timeout_seconds must be a number/);
    expect(text).toMatch(/\("three"\)\.profiles_allowed\[1\] must be one of "general", "verification"/);
    expect(text).toMatch(/\("four"\)\.command must be a non-empty string/);
    expect(text).toMatch(/\("five"\)\.args\[1\] must be a string/);
    expect(text).toMatch(/\("six"\)\.env\.BAD must be a string/);
    expect(text).toMatch(/\("seven"\) unknown key "allowed_tool"/);
    expect(text).toMatch(/\("eight"\)\.transport must be "stdio" or "http", got "sse"/);
    expect(text).toMatch(/\("nine"\)\.discovery_timeout_seconds must be > 0/);
    expect(text).toMatch(/downstream_servers\[9\] must be an object/);
    // One line per problem, each naming the file.
    for (const p of problems) {
      expect(p).not.toContain("\n");
      expect(p).toMatch(/^federation config .*federation\.json: /);
    }
  });

  it("enforces names: unique, no __, Anthropic-valid once prefixed", () => {
    const text = problemsOf({
      downstream_servers: [
        server({ name: "a" }),
        server({ name: " a " }),
        server({ name: "my__srv" }),
        server({ name: "dotted.name" }),
        server({ name: "x".repeat(62) }),
        server({ name: "ok", allowed_tools: ["fine", "has.dot", "y".repeat(61), ""] }),
        server({ name: "" }),
      ],
    }).join("\n");
    expect(text).toMatch(
      /downstream_servers\[1\] \("a"\)\.name duplicates the name of downstream_servers\[0\]/,
    );
    expect(text).toMatch(/\("my__srv"\)\.name "my__srv" must not contain "__"/);
    expect(text).toMatch(/\("dotted\.name"\)\.name .* may contain only letters, digits/);
    expect(text).toMatch(/name "x+" is too long \(at most 61 characters\)/);
    expect(text).toMatch(/\("ok"\)\.allowed_tools\[1\] "has\.dot" gives the tool name "ok__has\.dot"/);
    expect(text).toMatch(/\("ok"\)\.allowed_tools\[2\] "y+" gives the tool name/);
    expect(text).toMatch(/\("ok"\)\.allowed_tools\[3\] must be a non-empty tool name/);
    expect(text).toMatch(/downstream_servers\[6\]\.name must be a non-empty string/);
    expect(text).not.toMatch(/allowed_tools\[0\]/);
  });

  it("validates http url and headers", () => {
    const base = { name: "r", transport: "http", allowed_tools: ["x"], profiles_allowed: ["general"] };
    const text = problemsOf({
      downstream_servers: [
        { ...base, name: "r1", url: "ftp://example.com/mcp" },
        { ...base, name: "r2", url: "not a url" },
        { ...base, name: "r3", url: "http://user:pw@127.0.0.1/mcp" },
        { ...base, name: "r4", url: "http://127.0.0.1/mcp", headers: { "Bad Header": "x" } },
        { ...base, name: "r5", url: "http://127.0.0.1/mcp", command: "node" },
        { ...base, name: "r6" },
      ],
    }).join("\n");
    expect(text).toMatch(/\("r1"\)\.url must be an http/);
    expect(text).toMatch(/\("r2"\)\.url is not a valid URL/);
    expect(text).toMatch(/\("r3"\)\.url must not contain credentials/);
    expect(text).toMatch(/\("r4"\)\.headers "Bad Header" is not a valid HTTP header name/);
    expect(text).toMatch(/\("r5"\) unknown key "command"/);
    expect(text).toMatch(/\("r6"\)\.url is required/);
  });

  it("warns about servers that can offer nothing and plain-http headers", () => {
    const path = writeConfigFile({
      downstream_servers: [
        server({ name: "empty", allowed_tools: [] }),
        server({ name: "nobody", profiles_allowed: [] }),
        server({ name: "dup", allowed_tools: ["a", "a"] }),
        {
          name: "remote",
          transport: "http",
          url: "http://10.0.0.5/mcp",
          headers: { Authorization: "Bearer secret-value" },
          allowed_tools: ["x"],
          profiles_allowed: ["general"],
        },
      ],
    });
    const r = loadFederationConfig(path);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const text = r.warnings.join("\n");
    expect(text).toMatch(/\("empty"\)\.allowed_tools is empty/);
    expect(text).toMatch(/\("nobody"\)\.profiles_allowed is empty/);
    expect(text).toMatch(/\("dup"\)\.allowed_tools lists "a" more than once/);
    expect(text).toMatch(/\("remote"\)\.url uses plain http to a non-loopback host/);
    expect(text).not.toContain("secret-value");
    expect(r.config.servers.find((s) => s.name === "dup")?.allowedTools).toEqual(["a"]);
  });

  it("treats a missing or empty server list as valid but useless", () => {
    const r = loadFederationConfig(writeConfigFile({}));
    expect(r.ok && r.config.servers.length === 0 && r.warnings.length === 1).toBe(true);
    const all = loadFederationConfig(writeConfigFile({ downstream_servers: [server({ enabled: false })] }));
    expect(all.ok && all.warnings.some((w) => /every downstream server is disabled/.test(w))).toBe(true);
  });

  it("resolves a relative cwd against the config file and checks it exists", () => {
    const path = writeConfigFile({ downstream_servers: [server({ cwd: "." })] });
    const r = loadFederationConfig(path);
    expect(r.ok && r.config.servers[0].transport === "stdio" && r.config.servers[0].cwd).toBeTruthy();
    expect(problemsOf({ downstream_servers: [server({ cwd: "/definitely/not/here" })] })[0]).toMatch(
      /\.cwd "\/definitely\/not\/here" is not an existing directory/,
    );
  });
});

describe("setupFederation", () => {
  it("returns a disabled federation when not enabled", () => {
    const r = setupFederation({ federationEnabled: false, federationConfigPath: null }, silentLogger());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.federation.enabled).toBe(false);
    expect(r.federation.toolsFor("general")).toEqual([]);
    expect(r.federation.status()).toMatchObject({
      enabled: false,
      active: false,
      servers: [],
      tools_per_profile: { general: 0, verification: 0 },
    });
  });

  it("makes an enabled-but-invalid config a startup problem naming the env var", () => {
    const path = writeConfigFile({ downstream_servers: [server({ enabled: "yes" })] });
    const r = setupFederation({ federationEnabled: true, federationConfigPath: path }, silentLogger());
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.problems[0]).toMatch(/^CLAUDE_AGENT_MCP_FEDERATION_CONFIG: federation config .*enabled/);
    const none = setupFederation({ federationEnabled: true, federationConfigPath: null }, silentLogger());
    expect(none.ok).toBe(false);
  });
});
