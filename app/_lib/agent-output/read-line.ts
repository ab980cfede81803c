/** One line of agent output as events: a CLI event when it is one, else the line as it is. */
import { fromClaudeEvent, isClaudeEvent } from "./claude-code";
import { fromCodexEvent, isCodexEvent } from "./codex";
import type { LineEvent } from "./types";
import { clip } from "./text";

function parseObject(line: string): { type?: unknown } | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as { type?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}

export function readLine(line: string): LineEvent[] {
  const event = parseObject(line);
  // The two CLIs' event types do not overlap, so the line says which stream it belongs to.
  const events = !event ? undefined : isClaudeEvent(event) ? fromClaudeEvent(event) : isCodexEvent(event) ? fromCodexEvent(event) : undefined;
  return events ?? [{ kind: "line", text: clip(line) }];
}
