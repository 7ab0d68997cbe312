// Federation config file: upstream's JSON format (upstream-federation-config.md §6.2), validated strictly.
// Differences from upstream, all deliberate (see docs/federation.md):
//  - unknown keys, wrong types, duplicate server names, names that cannot form a valid Anthropic tool
//    name once prefixed (`<server>__<tool>`, ^[a-zA-Z0-9_-]{1,64}$) and unknown profiles are errors;
//  - `enabled` must be a boolean, `discovery_timeout_seconds` a positive number;
//  - `transport` may be "stdio" (default) or, as an addition, "http" (streamable HTTP: `url`, `headers`);
//  - additions: `call_timeout_seconds`, `max_result_chars`, `cwd`, `read_only`, `description`.
// Pure: reads the file, spawns nothing.
import { readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";

export const FEDERATION_PROFILES = ["general", "verification"] as const;
export type FederationProfile = (typeof FEDERATION_PROFILES)[number];

/** Anthropic tool names: the prefixed name Claude sees must match this. */
export const TOOL_NAME_RE = /^[a-zA-Z0-9_-]{1,64}$/;
export const NAME_SEPARATOR = "__";

export const DEFAULT_DISCOVERY_TIMEOUT_SECONDS = 10;
export const DEFAULT_CALL_TIMEOUT_SECONDS = 60;
export const DEFAULT_MAX_RESULT_CHARS = 50_000;

interface CommonServerConfig {
  name: string;
  description: string | null;
  enabled: boolean;
  discoveryTimeoutSeconds: number;
  callTimeoutSeconds: number;
  maxResultChars: number;
  /** Exact downstream tool names (not prefixed), case-sensitive. Empty = no usable tools. */
  allowedTools: string[];
  profilesAllowed: FederationProfile[];
  /** Operator asserts every tool of this server is read-only (else only readOnlyHint counts). */
  readOnly: boolean;
}

export interface StdioServerConfig extends CommonServerConfig {
  transport: "stdio";
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Absolute working directory for the child; null = inherit ours. */
  cwd: string | null;
}

export interface HttpServerConfig extends CommonServerConfig {
  transport: "http";
  url: string;
  /** Sent with every request. Values are secrets: never logged or reported. */
  headers: Record<string, string>;
}

export type DownstreamServerConfig = StdioServerConfig | HttpServerConfig;

export interface FederationConfig {
  /** Absolute path of the file this came from. */
  path: string;
  servers: DownstreamServerConfig[];
}

export type FederationConfigResult =
  | { ok: true; config: FederationConfig; warnings: string[] }
  | { ok: false; problems: string[] };

const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const SERVER_NAME_RE = /^[a-zA-Z0-9_-]+$/;

const nonEmpty = z.string({ error: "must be a string" }).refine((s) => s.trim().length > 0, {
  message: "must be a non-empty string",
});
const stringArray = z.array(z.string({ error: "must be a string" }), {
  error: "must be an array of strings",
});
const stringMap = z.record(z.string(), z.string({ error: "must be a string" }), {
  error: "must be an object of string values",
});
const seconds = (max: number) =>
  z
    .number({ error: "must be a number of seconds" })
    .refine((n) => Number.isFinite(n) && n > 0 && n <= max, { message: `must be > 0 and <= ${max}` });

const common = {
  name: nonEmpty,
  description: z.string({ error: "must be a string" }).optional(),
  enabled: z.boolean({ error: "must be true or false" }).optional(),
  discovery_timeout_seconds: seconds(300).optional(),
  call_timeout_seconds: seconds(3600).optional(),
  max_result_chars: z
    .number({ error: "must be an integer" })
    .int({ error: "must be an integer" })
    .min(1000, { error: "must be >= 1000" })
    .max(1_000_000, { error: "must be <= 1000000" })
    .optional(),
  allowed_tools: stringArray.optional(),
  profiles_allowed: z
    .array(
      z.enum(FEDERATION_PROFILES, {
        error: `must be one of ${FEDERATION_PROFILES.map((p) => JSON.stringify(p)).join(", ")}`,
      }),
      { error: "must be an array of profile names" },
    )
    .optional(),
  read_only: z.boolean({ error: "must be true or false" }).optional(),
};

const stdioSchema = z.strictObject({
  ...common,
  transport: z.literal("stdio"),
  command: nonEmpty,
  args: stringArray.optional(),
  env: stringMap.optional(),
  cwd: nonEmpty.optional(),
});

const httpSchema = z.strictObject({
  ...common,
  transport: z.literal("http"),
  url: nonEmpty,
  headers: stringMap.optional(),
});

const fileSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string({ error: "must be a string" }).optional(),
  downstream_servers: z.array(z.unknown(), { error: "must be an array of server objects" }).optional(),
});

function present(data: unknown, path: PropertyKey[]): boolean {
  let cur: unknown = data;
  for (const p of path) {
    if (typeof cur !== "object" || cur === null || !(p in cur)) return false;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur !== undefined;
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown): string {
  if (issue.code === "unrecognized_keys") {
    return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
  }
  if (issue.code === "invalid_type" && !present(data, issue.path)) return "is required";
  return issue.message;
}

function fieldPath(base: string, path: PropertyKey[]): string {
  let out = base;
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

function isLoopbackUrlHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * Reads and validates a federation config file. Problems are one line each, naming the file and the
 * field (for the startup error list); warnings are for the log (and the doctor report).
 */
export function loadFederationConfig(path: string): FederationConfigResult {
  const file = resolve(path);
  const where = (field: string) => `federation config ${file}: ${field}`;
  let text: string;
  try {
    if (statSync(file).isDirectory()) return { ok: false, problems: [where("is a directory, not a file")] };
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "file does not exist" : `cannot be read (${code ?? String(err)})`;
    return { ok: false, problems: [where(why)] };
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (err) {
    return { ok: false, problems: [where(`invalid JSON (${(err as Error).message})`)] };
  }
  return validateFederationConfig(json, file);
}

/** Validates an already-parsed config object (`file` only names it in messages). */
export function validateFederationConfig(json: unknown, file: string): FederationConfigResult {
  const where = (field: string) => `federation config ${file}: ${field}`;
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { ok: false, problems: [where("top level must be a JSON object")] };
  }
  const problems: string[] = [];
  const warnings: string[] = [];
  const top = fileSchema.safeParse(json);
  if (!top.success) {
    for (const issue of top.error.issues)
      problems.push(where(`${fieldPath("", issue.path) || "(top level)"} ${describeIssue(issue, json)}`));
    return { ok: false, problems };
  }
  const rawServers = top.data.downstream_servers ?? [];
  if (top.data.downstream_servers === undefined)
    warnings.push(where("no downstream_servers key; federation offers no tools"));

  const servers: DownstreamServerConfig[] = [];
  const seen = new Map<string, number>();
  rawServers.forEach((raw, i) => {
    const rawName =
      typeof raw === "object" && raw !== null && typeof (raw as { name?: unknown }).name === "string"
        ? ((raw as { name: string }).name.trim() as string)
        : "";
    const label = `downstream_servers[${i}]${rawName ? ` (${JSON.stringify(rawName)})` : ""}`;
    const bad = (field: string, message: string) =>
      problems.push(where(`${label}${field ? `.${field}` : ""} ${message}`));
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      bad("", "must be an object");
      return;
    }
    // Uniqueness is checked on the raw (trimmed) name, so it is reported even when other fields are bad.
    let nameOk = true;
    if (rawName) {
      const prev = seen.get(rawName);
      if (prev !== undefined) {
        bad("name", `duplicates the name of downstream_servers[${prev}]`);
        nameOk = false;
      } else seen.set(rawName, i);
    }
    const obj = { ...(raw as Record<string, unknown>) };
    // transport: default stdio; case-insensitive; "streamable-http" accepted as an alias of "http".
    if (obj.transport === undefined) obj.transport = "stdio";
    if (typeof obj.transport === "string") {
      const t = obj.transport.trim().toLowerCase();
      obj.transport = t === "streamable-http" || t === "streamable_http" ? "http" : t;
    }
    if (obj.transport !== "stdio" && obj.transport !== "http") {
      bad("transport", `must be "stdio" or "http", got ${JSON.stringify(obj.transport)}`);
      return;
    }
    const parsed = (obj.transport === "stdio" ? stdioSchema : httpSchema).safeParse(obj);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const path = issue.code === "unrecognized_keys" ? "" : fieldPath("", issue.path);
        bad(path, describeIssue(issue, obj));
      }
      return;
    }
    const d = parsed.data as z.infer<typeof stdioSchema> | z.infer<typeof httpSchema>;
    const name = d.name.trim();
    let ok = true;
    if (!SERVER_NAME_RE.test(name)) {
      bad("name", `${JSON.stringify(name)} may contain only letters, digits, "_" and "-"`);
      ok = false;
    } else if (name.includes(NAME_SEPARATOR)) {
      bad("name", `${JSON.stringify(name)} must not contain "${NAME_SEPARATOR}"`);
      ok = false;
    } else if (name.length + NAME_SEPARATOR.length + 1 > 64) {
      bad(
        "name",
        `${JSON.stringify(name)} is too long (at most ${64 - NAME_SEPARATOR.length - 1} characters)`,
      );
      ok = false;
    }

    const allowed = d.allowed_tools ?? [];
    const allowedUnique: string[] = [];
    const prefixOk = ok; // allowlist entries are checked only against a well-formed server name
    ok &&= nameOk;
    allowed.forEach((tool, j) => {
      const full = `${name}${NAME_SEPARATOR}${tool}`;
      if (!tool) {
        bad(`allowed_tools[${j}]`, "must be a non-empty tool name");
        ok = false;
      } else if (prefixOk && !TOOL_NAME_RE.test(full)) {
        bad(
          `allowed_tools[${j}]`,
          `${JSON.stringify(tool)} gives the tool name ${JSON.stringify(full)}, which is not a valid Anthropic tool name (^[a-zA-Z0-9_-]{1,64}$)`,
        );
        ok = false;
      } else if (allowedUnique.includes(tool)) {
        warnings.push(where(`${label}.allowed_tools lists ${JSON.stringify(tool)} more than once`));
      } else allowedUnique.push(tool);
    });
    const profiles = [...new Set(d.profiles_allowed ?? [])];

    let env: Record<string, string> = {};
    let cwd: string | null = null;
    let url = "";
    let headers: Record<string, string> = {};
    if (d.transport === "stdio") {
      env = d.env ?? {};
      for (const key of Object.keys(env)) {
        if (!ENV_KEY_RE.test(key)) {
          bad(`env`, `${JSON.stringify(key)} is not a valid environment variable name`);
          ok = false;
        }
      }
      if (d.cwd !== undefined) {
        cwd = isAbsolute(d.cwd) ? d.cwd : resolve(dirname(file), d.cwd);
        try {
          if (!statSync(cwd).isDirectory()) throw new Error("not a directory");
        } catch {
          bad("cwd", `${JSON.stringify(cwd)} is not an existing directory`);
          ok = false;
        }
      }
    } else {
      let u: URL | null = null;
      try {
        u = new URL(d.url.trim());
      } catch {
        bad("url", "is not a valid URL");
        ok = false;
      }
      if (u && u.protocol !== "http:" && u.protocol !== "https:") {
        bad("url", `must be an http:// or https:// URL, got ${JSON.stringify(u.protocol)}`);
        ok = false;
      }
      if (u?.username || u?.password) {
        bad("url", "must not contain credentials (use headers)");
        ok = false;
      }
      headers = d.headers ?? {};
      for (const [key, value] of Object.entries(headers)) {
        if (!HEADER_NAME_RE.test(key)) {
          bad("headers", `${JSON.stringify(key)} is not a valid HTTP header name`);
          ok = false;
        } else if (/[\r\n\0]/.test(value)) {
          bad(`headers.${key}`, "value must not contain line breaks");
          ok = false;
        }
      }
      if (u && ok) {
        url = u.toString();
        if (
          u.protocol === "http:" &&
          !isLoopbackUrlHost(u.hostname) &&
          Object.keys(headers).length > 0 &&
          (d.enabled ?? true)
        ) {
          warnings.push(
            where(`${label}.url uses plain http to a non-loopback host; its headers are sent unencrypted`),
          );
        }
      }
    }
    if (!ok) return;

    const enabled = d.enabled ?? true;
    if (enabled && allowedUnique.length === 0) {
      warnings.push(where(`${label}.allowed_tools is empty; this server offers no tools`));
    }
    if (enabled && allowedUnique.length > 0 && profiles.length === 0) {
      warnings.push(where(`${label}.profiles_allowed is empty; its tools are visible to no profile`));
    }
    const base: CommonServerConfig = {
      name,
      description: d.description ?? null,
      enabled,
      discoveryTimeoutSeconds: d.discovery_timeout_seconds ?? DEFAULT_DISCOVERY_TIMEOUT_SECONDS,
      callTimeoutSeconds: d.call_timeout_seconds ?? DEFAULT_CALL_TIMEOUT_SECONDS,
      maxResultChars: d.max_result_chars ?? DEFAULT_MAX_RESULT_CHARS,
      allowedTools: allowedUnique,
      profilesAllowed: profiles,
      readOnly: d.read_only ?? false,
    };
    servers.push(
      d.transport === "stdio"
        ? { ...base, transport: "stdio", command: d.command, args: d.args ?? [], env: { ...env }, cwd }
        : { ...base, transport: "http", url, headers: { ...headers } },
    );
  });
  if (problems.length) return { ok: false, problems };
  if (rawServers.length > 0 && !servers.some((s) => s.enabled)) {
    warnings.push(where("every downstream server is disabled; federation offers no tools"));
  } else if (top.data.downstream_servers !== undefined && rawServers.length === 0) {
    warnings.push(where("downstream_servers is empty; federation offers no tools"));
  }
  return { ok: true, config: { path: file, servers }, warnings };
}
