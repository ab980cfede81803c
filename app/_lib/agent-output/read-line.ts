/**
 * One line of agent output as events: read by the adapter whose events it is (their event types do
 * not overlap, lib/contracts/agents/agents.test.ts, so the line says which stream it belongs to,
 * whatever agent wrote it: an operator's script may speak Claude Code's), else the line as it is.
 */
import { AGENTS } from "@/lib/contracts/agents";
import { jsonLine } from "@/lib/contracts/agents/adapter";
import type { LineEvent } from "@/lib/contracts/agents/conversation";
import { clip } from "@/lib/contracts/agents/text";

export function readLine(line: string): LineEvent[] {
  const value = jsonLine(line);
  if (value !== undefined) {
    for (const agent of AGENTS) {
      const events = agent.output.read(value);
      if (events) return events;
    }
  }
  return [{ kind: "line", text: clip(line) }];
}
