// What a tool is on our MCP surface: a zod input schema (validated by us, so bad arguments get
// the contract's error shape instead of the SDK's bare message), a JSON output schema,
// annotations, and a handler returning the result object.
import { z } from "zod";
import type { SessionService } from "../sessions/session-service.js";
import type { StatusSource } from "./status.js";

export interface ToolContext {
  service: SessionService;
  status: StatusSource;
  signal: AbortSignal;
  /** Sends a progress notification when the caller asked for progress; no-op otherwise. */
  progress: (message: string) => void;
}

export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export interface ToolDef<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  input: S;
  annotations: ToolAnnotations;
  /** The result object for a validation failure (envelope for workflows, {error} otherwise). */
  invalid(message: string, raw: Record<string, unknown>, service?: SessionService): Record<string, unknown>;
  handle(args: z.infer<S>, ctx: ToolContext): Promise<Record<string, unknown>>;
}

export function defineTool<S extends z.ZodType>(def: ToolDef<S>): ToolDef<S> {
  return def;
}

// Lenient scalars: some clients (CLI inspectors, hand-written JSON) send "5" or "true".
export const intArg = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === "string" && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    z.number().int().min(min).max(max),
  );
export const boolArg = () =>
  z.preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean());

/** Non-blank text with a size cap. */
export const textArg = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((s) => s.trim().length > 0, "must not be empty or whitespace");

export const sessionIdArg = () =>
  z
    .string()
    .min(1, "must not be empty")
    .max(128, "must be at most 128 characters")
    .regex(/^[A-Za-z0-9_.-]+$/, "must contain only letters, digits, '_', '-' and '.'");

/** Formats zod issues as "field: problem; field: problem". */
export function describeIssues(err: z.ZodError): string {
  return err.issues
    .map((i) => {
      const field = i.path.length ? i.path.join(".") : "arguments";
      let msg = i.message;
      if (i.code === "invalid_type" && /received undefined/.test(i.message)) msg = "is required";
      else if (i.code === "invalid_type")
        msg = `must be ${i.expected === "array" ? "an array" : `a ${i.expected}`}`;
      else if (i.code === "invalid_value" && "values" in i)
        msg = `must be one of ${(i.values as unknown[]).join(", ")}`;
      else if (i.code === "unrecognized_keys") return `unknown field(s): ${i.keys.join(", ")}`;
      return `${field}: ${msg}`;
    })
    .join("; ");
}
