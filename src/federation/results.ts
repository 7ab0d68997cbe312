// Turning a downstream tools/call result into text for the model: text blocks as-is, embedded text
// resources with their URI, binary content (images, audio, blobs) reported by type and size instead of
// dumped, structuredContent as JSON when there is no text, and one size cap over the whole thing.

export interface RenderedResult {
  text: string;
  isError: boolean;
  truncated: boolean;
  /** Characters before truncation. */
  totalChars: number;
}

type Block = Record<string, unknown>;

/** Decoded size of a base64 string, without decoding it. */
export function base64Bytes(data: string): number {
  const clean = data.replace(/\s+/g, "");
  const pad = clean.endsWith("==") ? 2 : clean.endsWith("=") ? 1 : 0;
  return Math.max(0, Math.floor((clean.length * 3) / 4) - pad);
}

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function renderBlock(block: Block): string {
  const type = str(block.type) ?? "unknown";
  switch (type) {
    case "text":
      return str(block.text) ?? "";
    case "image":
    case "audio": {
      const bytes = base64Bytes(str(block.data) ?? "");
      return `[${type} content: ${str(block.mimeType) ?? "unknown type"}, ${bytes} bytes, not shown]`;
    }
    case "resource": {
      const res = (block.resource ?? {}) as Block;
      const uri = str(res.uri) ?? "(no uri)";
      const mime = str(res.mimeType);
      if (typeof res.text === "string") return `[resource ${uri}${mime ? ` (${mime})` : ""}]\n${res.text}`;
      const bytes = base64Bytes(str(res.blob) ?? "");
      return `[binary resource ${uri}: ${mime ?? "unknown type"}, ${bytes} bytes, not shown]`;
    }
    case "resource_link": {
      const name = str(block.name) ?? "";
      const uri = str(block.uri) ?? "";
      const mime = str(block.mimeType);
      return `[resource link ${name ? `${name} ` : ""}${uri}${mime ? ` (${mime})` : ""}]`;
    }
    default: {
      // Unknown block type: describe its shape, never dump opaque payloads.
      const json = JSON.stringify(block);
      return json.length <= 500 ? json : `[${type} content: ${json.length} characters, not shown]`;
    }
  }
}

/** Cuts `text` to at most `max` characters (not splitting a surrogate pair) and says so. */
export function capText(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  let cut = max;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return {
    text: `${text.slice(0, cut)}\n[truncated: showing the first ${cut} of ${text.length} characters]`,
    truncated: true,
  };
}

export function renderToolResult(result: Record<string, unknown>, maxChars: number): RenderedResult {
  const isError = result.isError === true;
  let text: string;
  if (Array.isArray(result.content) && result.content.length > 0) {
    text = (result.content as Block[])
      .filter((b) => typeof b === "object" && b !== null)
      .map(renderBlock)
      .join("\n");
    if (!text.trim() && result.structuredContent !== undefined)
      text = JSON.stringify(result.structuredContent);
  } else if (result.structuredContent !== undefined) {
    text = JSON.stringify(result.structuredContent);
  } else if ("toolResult" in result) {
    // Pre-2024-11 compatibility shape.
    text = typeof result.toolResult === "string" ? result.toolResult : JSON.stringify(result.toolResult);
  } else {
    text = "";
  }
  const capped = capText(text, maxChars);
  return { text: capped.text, isError, truncated: capped.truncated, totalChars: text.length };
}
