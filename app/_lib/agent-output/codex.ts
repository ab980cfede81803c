/**
 * Codex's `codex exec --json` events (codex-rs/exec/src/exec_events.rs): thread.started,
 * turn.started / turn.completed / turn.failed, error, and item.started / item.updated /
 * item.completed carrying a thread item (agent_message, reasoning, command_execution, file_change,
 * mcp_tool_call, web_search, todo_list, error, …). An item's events share its id, within one run.
 */
import type { LineEvent, ToolCall, ToolStatus } from "./types";
import { asText, clip, subjectOf, unwrapShell } from "./text";

type Item = {
  id?: string;
  type?: string;
  text?: string;
  message?: string;
  command?: string;
  aggregated_output?: string;
  exit_code?: number | null;
  status?: string;
  changes?: { path?: string; kind?: string }[];
  server?: string;
  tool?: string;
  arguments?: unknown;
  result?: { content?: unknown[]; structured_content?: unknown } | null;
  error?: { message?: string } | null;
  query?: string;
  prompt?: string | null;
  items?: { text?: string; completed?: boolean }[];
};

export type CodexEvent = {
  type?: string;
  item?: Item;
  error?: { message?: string };
  message?: string;
  usage?: { input_tokens?: number; output_tokens?: number };
};

export const isCodexEvent = (event: { type?: unknown }): event is CodexEvent =>
  typeof event.type === "string" && (/^(thread|turn|item)\./.test(event.type) || event.type === "error" || event.type === "request_user_input");

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
