/**
 * Claude Code: `claude -p … --output-format stream-json --verbose`, one JSON event a line: `system`
 * (init, api_retry, …), `assistant` and `user` messages whose content blocks are text, thinking,
 * tool_use and tool_result, and the final `result`, which says how the run ended. The `system`
 * events carry the conversation's `session_id` (a follow-up runs `--resume <id>`).
 */
import { z } from "zod";
import { defineAgent, field, jsonEvents, type MessageUsage, type RunEnd, type TurnUsage } from "./adapter";
import type { LineEvent } from "./conversation";
import { asText, clip, subjectOf } from "./text";

const ContentBlock = z.looseObject({
  type: field(z.string()),
  text: field(z.string()),
  thinking: field(z.string()),
  id: field(z.string()),
  name: field(z.string()),
  input: z.unknown().optional(),
  tool_use_id: field(z.string()),
  content: z.unknown().optional(),
  is_error: field(z.boolean()),
});
type ContentBlock = z.infer<typeof ContentBlock>;

export const ClaudeEvent = z.looseObject({
  type: z.enum(["system", "assistant", "user", "result", "stream_event"]),
  subtype: field(z.string()),
  session_id: field(z.string()),
  model: field(z.string()),
  cwd: field(z.string()),
  message: field(
    z.looseObject({
      id: field(z.string()),
      model: field(z.string()),
      content: field(z.union([z.string(), z.array(z.union([z.string(), ContentBlock]))])),
      /** The response's own usage (Anthropic's fields), repeated on each of its content blocks' events. */
      usage: field(z.looseObject({ input_tokens: field(z.number()), output_tokens: field(z.number()), cache_read_input_tokens: field(z.number()), cache_creation_input_tokens: field(z.number()) })),
    }),
  ),
  is_error: field(z.boolean()),
  result: field(z.string()),
  duration_ms: field(z.number()),
  attempt: field(z.number()),
  max_retries: field(z.number()),
  error_status: field(z.number().nullable()),
  error: field(z.string()),
  /** The `result` event's figures for the whole run (Anthropic's usage fields), and its price. */
  usage: field(
    z.looseObject({
      input_tokens: field(z.number()),
      output_tokens: field(z.number()),
      cache_read_input_tokens: field(z.number()),
      cache_creation_input_tokens: field(z.number()),
    }),
  ),
  total_cost_usd: field(z.number()),
});
export type ClaudeEvent = z.infer<typeof ClaudeEvent>;

/** A tool result's content: a string, or blocks of text (and images, named only). */
function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return asText(content);
  return content
    .map((block: { type?: unknown; text?: unknown } | null) => (block?.type === "text" ? String(block.text ?? "") : `[${typeof block?.type === "string" ? block.type : "content"}]`))
    .join("\n");
}

function fromBlock(block: ContentBlock | string, role: string): LineEvent[] {
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

/** The final `result` event: the CLI's own verdict on the run. */
function runEnd(event: ClaudeEvent): RunEnd | undefined {
  if (event.type !== "result") return undefined;
  return event.is_error || event.subtype !== "success" ? { failed: true, error: `${event.subtype ?? "error"}: ${event.result ?? "no message"}` } : { failed: false };
}

/** The `result` event's usage: Anthropic counts cache reads and writes apart from `input_tokens` already. */
function usage(event: ClaudeEvent): TurnUsage | undefined {
  if (event.type !== "result" || !event.usage) return undefined;
  return {
    inputTokens: event.usage.input_tokens ?? 0,
    outputTokens: event.usage.output_tokens ?? 0,
    cacheReadTokens: event.usage.cache_read_input_tokens ?? 0,
    cacheWriteTokens: event.usage.cache_creation_input_tokens ?? 0,
    ...(event.total_cost_usd === undefined ? {} : { costUsd: event.total_cost_usd }),
  };
}

/** An `assistant` event's model response and its usage: what the run has spent so far, one response at a time. */
function messageUsage(event: ClaudeEvent): MessageUsage | undefined {
  const message = event.type === "assistant" ? event.message : undefined;
  if (!message?.id || !message.usage) return undefined;
  return {
    id: message.id,
    model: message.model,
    usage: {
      inputTokens: message.usage.input_tokens ?? 0,
      outputTokens: message.usage.output_tokens ?? 0,
      cacheReadTokens: message.usage.cache_read_input_tokens ?? 0,
      cacheWriteTokens: message.usage.cache_creation_input_tokens ?? 0,
    },
  };
}

/** A successful `result` event's text: the final answer. A failed one's `result` is the CLI's error (runError has it), not the agent's words. */
function summary(event: ClaudeEvent): string | undefined {
  if (event.type !== "result" || runEnd(event)?.failed !== false) return undefined;
  return event.result;
}

function fromResult(event: ClaudeEvent): LineEvent[] {
  const end = runEnd(event);
  if (end?.failed) return [{ kind: "error", text: end.error }, { kind: "run-ended" }];
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

export const claudeCode = defineAgent({
  name: "claude-code",
  label: "Claude Code",
  output: jsonEvents(ClaudeEvent, {
    read: fromClaudeEvent,
    // The newest `system` event's session (init names it; a resumed run starts with its own init).
    conversationId: (event) => (event.type === "system" && event.session_id ? event.session_id : undefined),
    runEnd,
    usage,
    summary,
    messageUsage,
  }),
  keys: [{ name: "ANTHROPIC_API_KEY", label: "Anthropic API key (Claude Code)" }],
  model: { setting: "CLAUDE_CODE_MODEL", example: "claude-sonnet-4-5" },
  modelApi: { baseUrlSetting: "ANTHROPIC_BASE_URL", defaultUrl: "https://api.anthropic.com" },
  cli: {
    binSetting: "CLAUDE_CODE_BIN",
    // Its wrapper package asks for Node 22 (npm skips it on Node 20); the native binary needs no Node.
    npmPackage: (platform, arch) => ({ packageName: `@anthropic-ai/claude-code-${platform}-${arch}`, binary: "claude" }),
  },
});
