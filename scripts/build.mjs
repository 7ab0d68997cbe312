// Bundles src/cli.ts into one ESM file (dist/cli.js): one file to load halves cold start.
// Native and heavy runtime dependencies stay external and load from node_modules.
import { chmodSync, readFileSync } from "node:fs";
import { build } from "esbuild";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

await build({
  entryPoints: ["src/cli.ts"],
  outfile: "dist/cli.js",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  splitting: false,
  external: ["better-sqlite3", "pino", "execa", "@anthropic-ai/sdk"],
  define: { __VERSION__: JSON.stringify(pkg.version) },
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: "warning",
});
chmodSync("dist/cli.js", 0o755);
