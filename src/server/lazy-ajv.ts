// Stand-in for the MCP SDK's ajv-provider module, swapped in by scripts/build.mjs. The SDK's
// Server and Client import Ajv (with ajv-formats, ~150 kB) at module load, but only elicitation
// and client-side output validation use it. This class loads the real provider on first use, so
// server startup does not parse Ajv at all.
import { createRequire } from "node:module";
import type {
  JsonSchemaType,
  JsonSchemaValidator,
  jsonSchemaValidator,
} from "@modelcontextprotocol/sdk/validation";

const load = createRequire(import.meta.url);

export class AjvJsonSchemaValidator implements jsonSchemaValidator {
  private real: jsonSchemaValidator | null = null;

  getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
    if (!this.real) {
      const mod = load("@modelcontextprotocol/sdk/validation/ajv") as {
        AjvJsonSchemaValidator: new () => jsonSchemaValidator;
      };
      this.real = new mod.AjvJsonSchemaValidator();
    }
    return this.real.getValidator<T>(schema);
  }
}
