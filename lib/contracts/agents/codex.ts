/**
 * Codex: `codex exec --json` events (codex-rs/exec/src/exec_events.rs), one a line: thread.started
 * (its `thread_id` is the conversation a follow-up resumes), turn.started / turn.completed /
 * turn.failed, error, and item.started / item.updated / item.completed carrying a thread item
 * (agent_message, reasoning, command_execution, file_change, mcp_tool_call, web_search, todo_list,
 * error, …). An item's events share its id, within one run.
 */
import { z } from "zod";
import { defineAgent, field, jsonEvents, type RunEnd, type TurnUsage } from "./adapter";
import type { LineEvent, ToolCall, ToolStatus } from "./conversation";
import { asText, clip, subjectOf, unwrapShell } from "./text";

const Item = z.looseObject({
  id: field(z.string()),
  type: field(z.string()),
  text: field(z.string()),
  message: field(z.string()),
  command: field(z.string()),
  aggregated_output: field(z.string()),
  exit_code: field(z.number().nullable()),
  status: field(z.string()),
  changes: field(z.array(z.looseObject({ path: field(z.string()), kind: field(z.string()) }))),
  server: field(z.string()),
  tool: field(z.string()),
  arguments: z.unknown().optional(),
  result: field(z.looseObject({ content: field(z.array(z.unknown())), structured_content: z.unknown().optional() }).nullable()),
  error: field(z.looseObject({ message: field(z.string()) }).nullable()),
  query: field(z.string()),
  prompt: field(z.string().nullable()),
  items: field(z.array(z.looseObject({ text: field(z.string()), completed: field(z.boolean()) }))),
});
type Item = z.infer<typeof Item>;

export const CodexEvent = z.looseObject({
  type: z.union([z.string().regex(/^(thread|turn|item)\./), z.literal("error"), z.literal("request_user_input")]),
  thread_id: field(z.string()),
  item: field(Item),
  error: field(z.looseObject({ message: field(z.string()) })),
  message: field(z.string()),
  usage: field(
    z.looseObject({
      input_tokens: field(z.number()),
      cached_input_tokens: field(z.number()),
      cache_write_input_tokens: field(z.number()),
      output_tokens: field(z.number()),
    }),
  ),
});
export type CodexEvent = z.infer<typeof CodexEvent>;

type Phase = "started" | "updated" | "completed";

function status(item: Item, phase: Phase): ToolStatus {
  if (item.status === "failed" || item.status === "declined") return "failed";
  if (typeof item.exit_code === "number" && item.exit_code !== 0) return "failed";
  if (item.status === "completed" || (item.status === undefined && phase === "completed")) return "ok";
  return "running";
}

const call = (item: Item, phase: Phase, fields: Pick<ToolCall, "name" | "subject" | "input" | "result"> & { subjectIsFile?: boolean }): LineEvent[] => [
  {
    kind: "tool",
    call: {
      id: item.id ?? "",
      name: fields.name,
      subject: fields.subject,
      subjectIsFile: fields.subjectIsFile ?? false,
      status: status(item, phase),
      input: clip(fields.input),
      result: fields.result === null ? null : clip(fields.result),
    },
  },
];

function mcpResult(item: Item): string | null {
  if (item.error?.message) return item.error.message;
  if (!item.result) return null;
  const texts = (item.result.content ?? []).map((block) => (block && typeof block === "object" && "text" in block ? String(block.text) : asText(block)));
  return texts.length ? texts.join("\n") : asText(item.result.structured_content);
}

function fromItem(item: Item, phase: Phase): LineEvent[] | undefined {
  const done = phase === "completed";
  switch (item.type) {
    case "agent_message":
    case "plan":
      return done && item.text?.trim() ? [{ kind: "text", text: item.text }] : [];
    case "reasoning":
      return done && item.text?.trim() ? [{ kind: "reasoning", text: item.text }] : [];
    case "error":
      return [{ kind: "error", text: item.message ?? "error" }];
    case "command_execution": {
      const output = (item.aggregated_output ?? "").trimEnd();
      const exit = typeof item.exit_code === "number" ? `[exit code ${item.exit_code}]` : `[${item.status ?? "done"}]`;
      const result = done || item.status !== "in_progress" ? (output ? `${output}\n${exit}` : exit) : null;
      return call(item, phase, { name: "Shell", subject: unwrapShell(item.command ?? ""), input: item.command ?? "", result });
    }
    case "file_change": {
      const changes = item.changes ?? [];
      const more = changes.length > 1 ? ` +${changes.length - 1} more` : "";
      const list = changes.map((c) => `${c.kind ?? "update"} ${c.path ?? "?"}`).join("\n");
      return call(item, phase, { name: "Edit", subject: `${changes[0]?.path ?? ""}${more}`, subjectIsFile: true, input: list, result: done ? (item.status ?? "completed") : null });
    }
    case "mcp_tool_call":
      return call(item, phase, { name: `${item.server ?? "mcp"}/${item.tool ?? "tool"}`, subject: subjectOf(item.arguments).subject, input: asText(item.arguments), result: mcpResult(item) });
    case "web_search":
      return call(item, phase, { name: "Web search", subject: item.query ?? "", input: item.query ?? "", result: done ? "searched" : null });
    case "todo_list": {
      const items = item.items ?? [];
      const doneCount = items.filter((i) => i.completed).length;
      const input = items.map((i) => `[${i.completed ? "x" : " "}] ${i.text ?? ""}`).join("\n");
      return call(item, phase, { name: "To-do list", subject: `${doneCount} of ${items.length} done`, input, result: null });
    }
    case "collab_tool_call":
      return call(item, phase, { name: `Agent ${item.tool ?? "call"}`, subject: item.prompt ?? "", input: asText(item), result: null });
    default:
      return undefined;
  }
}

/** The events of one line, or undefined for an event this reader does not know (shown as a plain line). */
export function fromCodexEvent(event: CodexEvent): LineEvent[] | undefined {
  switch (event.type) {
    case "thread.started":
      return [{ kind: "notice", text: "Session started" }];
    case "turn.started":
    case "item.plan.delta":
      return [];
    case "turn.completed": {
      const usage = event.usage;
      const tokens = usage ? ` · ${usage.input_tokens ?? 0} tokens in, ${usage.output_tokens ?? 0} out` : "";
      return [{ kind: "notice", text: `Finished${tokens}` }, { kind: "run-ended" }];
    }
    case "turn.failed":
      return [{ kind: "error", text: event.error?.message ?? "turn failed" }, { kind: "run-ended" }];
    case "error":
      return [{ kind: "error", text: event.message ?? "error" }];
    case "request_user_input":
      return [{ kind: "notice", text: "The agent asked for input" }];
    case "item.started":
    case "item.updated":
    case "item.completed":
      return event.item ? fromItem(event.item, event.type.slice("item.".length) as Phase) : undefined;
    default:
      return undefined;
  }
}

/** A failed run ends with `turn.failed` (or a bare `error` event); `turn.completed` is a success. */
function runEnd(event: CodexEvent): RunEnd | undefined {
  if (event.type === "turn.completed") return { failed: false };
  if (event.type === "turn.failed") return { failed: true, error: event.error?.message ?? "turn failed" };
  if (event.type === "error") return { failed: true, error: event.message ?? "error" };
  return undefined;
}

/** `turn.completed`'s usage: OpenAI counts the cached input inside `input_tokens`; Codex does not price the run. */
function usage(event: CodexEvent): TurnUsage | undefined {
  if (event.type !== "turn.completed" || !event.usage) return undefined;
  const input = event.usage.input_tokens ?? 0;
  const cached = Math.min(event.usage.cached_input_tokens ?? 0, input);
  return { inputTokens: input - cached, outputTokens: event.usage.output_tokens ?? 0, cacheReadTokens: cached, cacheWriteTokens: event.usage.cache_write_input_tokens ?? 0 };
}

/** A completed `agent_message` item's text: the newest of a run is its closing answer. */
const summary = (event: CodexEvent): string | undefined => (event.type === "item.completed" && event.item?.type === "agent_message" ? event.item.text : undefined);

/** Codex ships Linux builds only, one per CPU, each in its own platform package. */
const LINUX_TRIPLES: Record<string, string> = { x64: "x86_64-unknown-linux-musl", arm64: "aarch64-unknown-linux-musl" };

export const codex = defineAgent({
  name: "codex",
  label: "Codex",
  output: jsonEvents(CodexEvent, {
    read: fromCodexEvent,
    conversationId: (event) => (event.type === "thread.started" ? event.thread_id : undefined),
    runEnd,
    usage,
    summary,
  }),
  keys: [{ name: "OPENAI_API_KEY", label: "OpenAI API key (Codex)" }],
  model: { setting: "CODEX_MODEL", example: "gpt-5-codex" },
  modelApi: { baseUrlSetting: "OPENAI_BASE_URL", defaultUrl: "https://api.openai.com/v1" },
  cli: {
    binSetting: "CODEX_BIN",
    npmPackage: (platform, arch) => {
      const triple = LINUX_TRIPLES[arch];
      return platform === "linux" && triple ? { packageName: `@openai/codex-linux-${arch}`, binary: `vendor/${triple}/bin/codex` } : undefined;
    },
  },
});
