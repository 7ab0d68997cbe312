// Bundles src/cli.ts into dist/cli.js plus lazily loaded chunks (dist/chunks/): the entry holds
// only the CLI and config; `serve` loads the server chunk, and what only a first run, another
// command or another transport needs (doctor, sessions CLI, HTTP transport, claude_code backend,
// workspace tools, the Anthropic SDK, execa) loads on first use. Few files to load halves cold
// start; loading only what the handshake needs does the rest (see bench/).
// Native and heavy runtime dependencies stay external and load from node_modules.
import { chmodSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { build } from "esbuild";

// zod's entries re-export every locale (`z.locales`, `z.core.locales`: about 370 kB, half of zod), so
// every server start would parse and evaluate them. Only English messages are used (zod's own
// default, configured directly from locales/en.js), so `z.locales` is cut down to `en`.
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|mini|core)[\\/](external|index)\.js$/.test(args.importer)
        ? { path: "zod-locales-en", namespace: "zod-locales" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "zod-locales" }, () => ({
      contents: 'export { default as en } from "zod/v4/locales/en.js";',
      resolveDir: process.cwd(),
      loader: "js",
    }));
  },
};

// The MCP SDK's Server and Client import its Ajv provider (Ajv + ajv-formats, ~150 kB) at load
// time, though only elicitation and client-side output validation use it: every import of that
// module is pointed at src/server/lazy-ajv.ts, which loads the real provider on first use.
const lazyAjv = {
  name: "lazy-ajv",
  setup(b) {
    b.onResolve({ filter: /ajv-provider\.js$|^@modelcontextprotocol\/sdk\/validation\/ajv$/ }, (args) =>
      args.importer.includes("lazy-ajv")
        ? undefined
        : { path: new URL("../src/server/lazy-ajv.ts", import.meta.url).pathname },
    );
  },
};

// `--clean` (prepack): start from an empty dist/, so a package never carries chunks of old builds.
if (process.argv.includes("--clean")) rmSync("dist", { recursive: true, force: true });

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

const result = await build({
  entryPoints: { cli: "src/cli.ts" },
  outdir: "dist",
  entryNames: "[name]",
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  splitting: true,
  minify: true,
  external: ["better-sqlite3", "execa", "@anthropic-ai/sdk"],
  define: { __VERSION__: JSON.stringify(pkg.version) },
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  metafile: true,
  plugins: [zodEnglishOnly, lazyAjv],
  logLevel: "warning",
});
chmodSync("dist/cli.js", 0o755);

// Chunk names carry a content hash. Chunks of earlier builds are removed once they are an hour
// old: a server started from an earlier build may still load them lazily (tests run in parallel
// with rebuilds), but they must not pile up in the package.
const current = new Set(Object.keys(result.metafile.outputs).map((p) => p.replace(/^dist\/chunks\//, "")));
for (const f of readdirSync("dist/chunks")) {
  const p = `dist/chunks/${f}`;
  if (!current.has(f) && Date.now() - statSync(p).mtimeMs > 3_600_000) rmSync(p, { force: true });
}
