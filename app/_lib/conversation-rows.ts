/**
 * The task page's conversation as rows, in order: the prompt, then per turn the person's messages
 * that started it and the agent's entries, then messages still queued. One row each, for the
 * virtualised list; keys stay the same as output arrives, so measured rows keep their sizes.
 */
import type { OutputBatch, TaskMessageView } from "@/lib/contracts/api";
import { foldTurn, readLine, type AgentItem, type LineEvent } from "./agent-output";

export type ConversationRow =
  | { key: string; kind: "prompt"; text: string }
  /** `earlier`: delivered to an earlier attempt of a retried task (its turns are that attempt's). */
  | { key: string; kind: "message"; message: TaskMessageView; earlier: boolean }
  | { key: string; kind: "agent"; turn: number; working: boolean }
  | { key: string; kind: "item"; item: AgentItem };

export type ConversationInput = {
  prompt: string;
  messages: TaskMessageView[];
  /** The current attempt's output, in place by turn and offset. */
  batches: OutputBatch[];
  /** The task was retried: only messages delivered since its current session started are this attempt's. */
  retried: boolean;
  sessionStartedAt: string | null;
  /** The agent is at work on the newest turn (so that turn is not over). */
  working: boolean;
};

// Batches never change once stored, so each is read once however often the rows are rebuilt.
const eventsOfBatch = new WeakMap<OutputBatch, LineEvent[]>();
function batchEvents(batch: OutputBatch): LineEvent[] {
  let events = eventsOfBatch.get(batch);
  if (!events) eventsOfBatch.set(batch, (events = batch.lines.flatMap(readLine)));
  return events;
}

function turnsOf(batches: OutputBatch[]): Map<number, LineEvent[]> {
  const turns = new Map<number, LineEvent[]>();
  for (const batch of batches) {
    const events = turns.get(batch.turn) ?? [];
    // A loop, not spread: a batch holds up to 5,000 lines.
    for (const event of batchEvents(batch)) events.push(event);
    turns.set(batch.turn, events);
  }
  return turns;
}

export function conversationRows(input: ConversationInput): ConversationRow[] {
  const sessionStart = input.sessionStartedAt ? Date.parse(input.sessionStartedAt) : Infinity;
  const ofThisAttempt = (m: TaskMessageView) => !input.retried || (m.deliveredAt !== null && Date.parse(m.deliveredAt) >= sessionStart);
  const delivered = input.messages.filter((m) => m.status === "delivered" && m.turn !== null);
  const current = delivered.filter(ofThisAttempt);
  const turns = turnsOf(input.batches);
  const lastTurn = Math.max(1, ...turns.keys(), ...current.map((m) => m.turn ?? 1));

  const rows: ConversationRow[] = [{ key: "prompt", kind: "prompt", text: input.prompt }];
  for (const message of delivered.filter((m) => !ofThisAttempt(m))) rows.push({ key: `m-${message.id}`, kind: "message", message, earlier: true });
  for (let turn = 1; turn <= lastTurn; turn++) {
    for (const message of current.filter((m) => m.turn === turn)) rows.push({ key: `m-${message.id}`, kind: "message", message, earlier: false });
    const events = turns.get(turn);
    const working = input.working && turn === lastTurn;
    if (!events && !working) continue;
    rows.push({ key: `a-${turn}`, kind: "agent", turn, working });
    foldTurn(events ?? [], { ended: !working }).forEach((item, index) => rows.push({ key: `i-${turn}-${index}`, kind: "item", item }));
  }
  for (const message of input.messages.filter((m) => m.status === "queued")) rows.push({ key: `m-${message.id}`, kind: "message", message, earlier: false });
  return rows;
}
