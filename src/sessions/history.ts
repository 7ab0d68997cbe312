// Rebuilds the real conversation of a session from its events for replay to the model.
// Each request contributes its user prompt and the transcript the backend produced (assistant
// text and tool exchanges). Requests that produced nothing are left out, so the history never
// holds a dangling user turn. Oldest requests are dropped first to fit the budget.
import type { ContentBlock, TranscriptMessage } from "../backends/backend.js";
import type { StoredEvent } from "./store.js";

const MAX_HISTORY_CHARS = 400_000;
const MAX_TOOL_RESULT_CHARS = 16_000;

interface Exchange {
  messages: TranscriptMessage[];
  chars: number;
}

export function buildHistory(events: StoredEvent[]): {
  messages: TranscriptMessage[];
  truncated: boolean;
  note: string;
} {
  const exchanges: Exchange[] = [];
  let pendingUser: string | null = null;
  let pendingSummary: string | null = null;
  const flushLegacy = () => {
    // Sessions written by the original server carry only summaries; replay them as a fallback.
    if (pendingUser !== null && pendingSummary) {
      exchanges.push(makeExchange(pendingUser, [{ role: "assistant", content: pendingSummary }]));
    }
  };
  for (const e of events) {
    if (e.event_type === "user_input") {
      flushLegacy();
      const p = e.payload as { prompt?: string; task?: string; message?: string };
      pendingUser = p.prompt ?? p.task ?? p.message ?? null;
      pendingSummary = null;
    } else if (e.event_type === "provider_response_summary") {
      pendingSummary = (e.payload as { summary?: string }).summary ?? null;
    } else if (e.event_type === "provider_transcript" && pendingUser !== null) {
      const messages = sanitize((e.payload as { messages?: TranscriptMessage[] }).messages ?? []);
      if (messages.length) exchanges.push(makeExchange(pendingUser, messages));
      pendingUser = null;
      pendingSummary = null;
    }
  }
  flushLegacy();

  let total = exchanges.reduce((n, x) => n + x.chars, 0);
  let dropped = 0;
  while (total > MAX_HISTORY_CHARS && exchanges.length > 1) {
    total -= exchanges.shift()!.chars;
    dropped++;
  }
  return {
    messages: exchanges.flatMap((x) => x.messages),
    truncated: dropped > 0,
    note: dropped ? `${dropped} oldest exchange(s) left out` : "",
  };
}

function makeExchange(user: string, messages: TranscriptMessage[]): Exchange {
  const all: TranscriptMessage[] = [{ role: "user", content: user }, ...messages];
  // A transcript that ends on tool results (turn cap reached mid-tool-use) still needs an
  // assistant turn before the next user prompt.
  if (all[all.length - 1].role === "user") {
    all.push({ role: "assistant", content: "(turn limit reached before a final answer)" });
  }
  return { messages: all, chars: all.reduce((n, m) => n + sizeOf(m), 0) };
}

/** Caps oversized tool results and drops a trailing tool_use that never got its result. */
function sanitize(messages: TranscriptMessage[]): TranscriptMessage[] {
  const out = messages.map((m) =>
    typeof m.content === "string"
      ? m
      : {
          role: m.role,
          content: m.content.map(
            (b): ContentBlock =>
              b.type === "tool_result" && b.content.length > MAX_TOOL_RESULT_CHARS
                ? { ...b, content: `${b.content.slice(0, MAX_TOOL_RESULT_CHARS)}\n[... cut for replay]` }
                : b,
          ),
        },
  );
  const last = out[out.length - 1];
  if (
    last &&
    last.role === "assistant" &&
    typeof last.content !== "string" &&
    last.content.some((b) => b.type === "tool_use")
  ) {
    const text = last.content.filter((b) => b.type === "text");
    if (text.length) out[out.length - 1] = { role: "assistant", content: text };
    else out.pop();
  }
  return out;
}

function sizeOf(m: TranscriptMessage): number {
  return typeof m.content === "string" ? m.content.length : JSON.stringify(m.content).length;
}
