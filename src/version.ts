// The one version string: package.json's, inlined at build time (esbuild/vitest `define`).
declare const __VERSION__: string;
export const VERSION: string = __VERSION__;
export const SERVER_NAME = "claude-agent-mcp";
