/**
 * The task page's conversation as rows, in order: the prompt, then per turn the person's messages
 * that started it and the agent's entries, then messages still queued. One row each, for the
 * virtualised list; keys stay the same as output arrives, so measured rows keep their sizes.
 */
import type { OutputBatch, TaskMessageView } from "@/lib/contracts/api";
import { foldTurn, type AgentItem } from "./agent-output";
import { readBatchLines, turnSegments, type CheckBlock, type TurnPiece } from "./check-blocks";

export type ConversationRow =
  | { key: string; kind: "prompt"; text: string }
  /** `earlier`: delivered to an earlier attempt of a retried task (its turns are that attempt's). */
  | { key: string; kind: "message"; message: TaskMessageView; earlier: boolean }
  | { key: string; kind: "agent"; turn: number; working: boolean }
  | { key: string; kind: "item"; item: AgentItem }
  /** One of the repository's checks the node ran after the turn; `running` until its end marker comes. */
  | { key: string; kind: "check"; check: CheckBlock; running: boolean };

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

// Batches never change once stored, so each is read once however often the rows are rebuilt (again
// only if it turns out to start inside a check's output after all: a batch stored late, in between).
const readBatches = new WeakMap<OutputBatch, { inCheck: boolean; read: ReturnType<typeof readBatchLines> }>();
function readBatch(batch: OutputBatch, inCheck: boolean) {
  const held = readBatches.get(batch);
  if (held?.inCheck === inCheck) return held.read;
  const read = readBatchLines(batch.lines, inCheck);
  readBatches.set(batch, { inCheck, read });
  return read;
}

function turnsOf(batches: OutputBatch[]): Map<number, TurnPiece[]> {
  const turns = new Map<number, { pieces: TurnPiece[]; inCheck: boolean }>();
  for (const batch of batches) {
    const turn = turns.get(batch.turn) ?? { pieces: [], inCheck: false };
    const read = readBatch(batch, turn.inCheck);
    // A loop, not spread: a batch holds up to 5,000 lines.
    for (const piece of read.pieces) turn.pieces.push(piece);
    turn.inCheck = read.inCheck;
    turns.set(batch.turn, turn);
  }
  return new Map([...turns].map(([turn, { pieces }]) => [turn, pieces]));
}

/** A turn's rows after its heading: the agent's entries and the checks' blocks, in order. */
function turnRows(turn: number, pieces: TurnPiece[], working: boolean): ConversationRow[] {
  const rows: ConversationRow[] = [];
  const segments = turnSegments(pieces);
  let items = 0;
  let checks = 0;
  segments.forEach((segment, at) => {
    const last = at === segments.length - 1;
    if (segment.kind === "check") {
      rows.push({ key: `c-${turn}-${checks++}`, kind: "check", check: segment.block, running: working && last && segment.block.end === null });
      return;
    }
    // The agent's part is over once checks follow it (they run after its turn).
    for (const item of foldTurn(segment.events, { ended: !working || !last })) rows.push({ key: `i-${turn}-${items++}`, kind: "item", item });
  });
  return rows;
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
    const pieces = turns.get(turn);
    const working = input.working && turn === lastTurn;
    if (!pieces && !working) continue;
    rows.push({ key: `a-${turn}`, kind: "agent", turn, working });
    for (const row of turnRows(turn, pieces ?? [], working)) rows.push(row);
  }
  for (const message of input.messages.filter((m) => m.status === "queued")) rows.push({ key: `m-${message.id}`, kind: "message", message, earlier: false });
  return rows;
}
