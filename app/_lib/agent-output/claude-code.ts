/**
 * Claude Code's `--output-format stream-json` events (as `claude -p … --verbose` writes them, one
 * JSON object a line): `system` (init, api_retry, …), `assistant` and `user` messages whose content
 * blocks are text, thinking, tool_use and tool_result, and the final `result`.
 */
import type { LineEvent } from "./types";
import { asText, clip, subjectOf } from "./text";

type ContentBlock = {
  type?: string;
  text?: string;
  thinking?: string;
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  content?: unknown;
  is_error?: boolean;
};

export type ClaudeEvent = {
  type?: string;
  subtype?: string;
  model?: string;
  cwd?: string;
  message?: { content?: string | ContentBlock[] };
  is_error?: boolean;
  result?: string;
  duration_ms?: number;
  attempt?: number;
  max_retries?: number;
  error_status?: number | null;
  error?: string;
};

const CLAUDE_TYPES = new Set(["system", "assistant", "user", "result", "stream_event"]);

export const isClaudeEvent = (event: { type?: unknown }): event is ClaudeEvent => typeof event.type === "string" && CLAUDE_TYPES.has(event.type);

/** A tool result's content: a string, or blocks of text (and images, named only). */
function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return asText(content);
  return content
    .map((block: ContentBlock) => (block?.type === "text" ? (block.text ?? "") : `[${block?.type ?? "content"}]`))
    .join("\n");
}

function fromBlock(block: ContentBlock | string, role: string | undefined): LineEvent[] {
  if (typeof block === "string") return block.trim() ? [{ kind: role === "assistant" ? "text" : "notice", text: block }] : [];
  switch (block.type) {
    case "text":
      if (!block.text?.trim()) return [];
      // A text block in a `user` message is the CLI speaking for the person (an interruption, say).
      return [{ kind: role === "assistant" ? "text" : "notice", text: block.text }];
    case "thinking":
      return block.thinking?.trim() ? [{ kind: "reasoning", text: block.thinking }] : [];
    case "tool_use":
    case "server_tool_use":
      return [
        {
          kind: "tool",
          call: { id: block.id ?? "", name: block.name ?? "tool", ...subjectOf(block.input), status: "running", input: clip(asText(block.input)), result: null },
        },
      ];
    case "tool_result":
      return [{ kind: "tool-result", id: block.tool_use_id ?? "", failed: block.is_error === true, result: clip(resultText(block.content)) }];
    default:
      return [];
  }
}

function fromSystem(event: ClaudeEvent): LineEvent[] {
  if (event.subtype === "init") {
    const started: LineEvent = { kind: "notice", text: `Session started${event.model ? ` · ${event.model}` : ""}` };
    return event.cwd ? [{ kind: "session", cwd: event.cwd }, started] : [started];
  }
  if (event.subtype === "api_retry") {
    const status = event.error_status ? `${event.error_status} ` : "";
    const attempt = event.attempt && event.max_retries ? `, attempt ${event.attempt} of ${event.max_retries}` : "";
    return [{ kind: "error", text: `API error ${status}(${event.error ?? "unknown"}): retrying${attempt}` }];
  }
  return [{ kind: "notice", text: (event.subtype ?? "system").replaceAll("_", " ") }];
}

function fromResult(event: ClaudeEvent): LineEvent[] {
  if (event.is_error || event.subtype !== "success") {
    return [{ kind: "error", text: `${event.subtype ?? "error"}: ${event.result ?? "no message"}` }, { kind: "run-ended" }];
  }
  const took = typeof event.duration_ms === "number" ? ` in ${(event.duration_ms / 1000).toFixed(1)} s` : "";
  return [{ kind: "notice", text: `Finished${took}` }, { kind: "run-ended" }];
}

export function fromClaudeEvent(event: ClaudeEvent): LineEvent[] {
  switch (event.type) {
    case "system":
      return fromSystem(event);
    case "result":
      return fromResult(event);
    case "assistant":
    case "user": {
      const content = event.message?.content ?? [];
      return typeof content === "string" ? fromBlock(content, event.type) : content.flatMap((block) => fromBlock(block, event.type));
    }
    default:
      // stream_event: partial deltas (--include-partial-messages) of messages that also arrive whole.
      return [];
  }
}
