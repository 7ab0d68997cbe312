// Argument validation against a downstream tool's JSON schema, before anything is sent downstream.
// Full JSON Schema through the SDK's Ajv provider; if a schema cannot be compiled (exotic dialect,
// dangling $ref) we fall back to checking `required` and the top-level property types.
// Messages name fields and constraints, never argument values.
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import type { JsonSchemaType } from "@modelcontextprotocol/sdk/validation/types.js";

/** Returns null when the arguments are valid, else a message naming the offending fields. */
export type ArgumentValidator = (args: Record<string, unknown>) => string | null;

let ajv: AjvJsonSchemaValidator | null = null;

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function typeMatches(expected: unknown, v: unknown): boolean {
  const list = Array.isArray(expected) ? expected : [expected];
  if (!list.every((t) => typeof t === "string")) return true;
  const actual = jsonType(v);
  return list.some((t) => t === actual || (t === "number" && actual === "integer"));
}

function basicValidator(schema: Record<string, unknown>): ArgumentValidator {
  const required = Array.isArray(schema.required)
    ? schema.required.filter((r): r is string => typeof r === "string")
    : [];
  const props =
    typeof schema.properties === "object" && schema.properties !== null
      ? (schema.properties as Record<string, Record<string, unknown>>)
      : {};
  return (args) => {
    const errors: string[] = [];
    const missing = required.filter((r) => !(r in args));
    if (missing.length)
      errors.push(`missing required field${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
    for (const [key, value] of Object.entries(args)) {
      const p = props[key];
      if (p && typeof p === "object" && "type" in p && !typeMatches(p.type, value)) {
        errors.push(`${key} must be ${Array.isArray(p.type) ? p.type.join(" or ") : String(p.type)}`);
      }
    }
    return errors.length ? errors.join("; ") : null;
  };
}

/** Reword Ajv's "data/x must ..." into "x must ..." style messages. */
function tidy(message: string): string {
  return message
    .split(", ")
    .map((part) =>
      part
        .replace(/^data\/([^ ]+) /, (_m, p: string) => `${p.replace(/\//g, ".")} `)
        .replace(/^data must have required property '([^']+)'/, "missing required field $1")
        .replace(/^data /, "arguments "),
    )
    .join("; ");
}

export function compileArgumentValidator(schema: Record<string, unknown> | undefined): ArgumentValidator {
  if (!schema || typeof schema !== "object" || Object.keys(schema).length === 0) return () => null;
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  try {
    ajv ??= new AjvJsonSchemaValidator();
    const validate = ajv.getValidator<Record<string, unknown>>(rest as JsonSchemaType);
    return (args) => {
      const r = validate(args);
      return r.valid ? null : tidy(r.errorMessage);
    };
  } catch {
    return basicValidator(rest);
  }
}
