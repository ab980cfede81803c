/**
 * Turns an agent's output lines into what a person reads. Claude Code's stream-json events become
 * short entries (its text, each tool call, the result); any other line is shown as it is.
 */
export type OutputEntry = { kind: "text" | "tool" | "result" | "error" | "system" | "line"; text: string };

type StreamEvent = {
  type?: string;
  subtype?: string;
  is_error?: boolean;
  result?: string;
  model?: string;
  message?: { content?: ({ type: string; text?: string; name?: string; input?: unknown; content?: unknown } | string)[] };
};

const brief = (value: unknown, max = 160) => {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
};

function fromEvent(event: StreamEvent): OutputEntry[] {
  if (event.type === "system") return [{ kind: "system", text: `session started${event.model ? ` (${event.model})` : ""}` }];
  if (event.type === "result") return [{ kind: event.is_error ? "error" : "result", text: event.result ?? event.subtype ?? "finished" }];
  const content = event.message?.content ?? [];
  return content.flatMap((part): OutputEntry[] => {
    if (typeof part === "string") return [{ kind: "text", text: part }];
    if (part.type === "text" && part.text) return [{ kind: event.type === "user" ? "system" : "text", text: part.text }];
    if (part.type === "tool_use") {
      const input = part.input as { command?: string; file_path?: string } | undefined;
      return [{ kind: "tool", text: `${part.name}: ${brief(input?.command ?? input?.file_path ?? input)}` }];
    }
    if (part.type === "tool_result") return [{ kind: "line", text: brief(part.content, 400) }];
    return [];
  });
}

export function toEntries(lines: string[]): OutputEntry[] {
  return lines.flatMap((line) => {
    if (line.startsWith("{")) {
      try {
        return fromEvent(JSON.parse(line) as StreamEvent);
      } catch {
        // Not an event after all: shown as a line.
      }
    }
    return [{ kind: "line" as const, text: line }];
  });
}
