// The verification module's public surface: the session service imports from here only.
export * from "./evidence.js";
export * from "./preflight.js";
export * from "./prompt.js";
export * from "./report.js";
export * from "./result.js";
export * from "./taxonomy.js";
export * from "./verdict.js";
