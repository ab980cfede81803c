/**
 * The repository's checks in a turn's output: the node writes each command's lines between two
 * marker lines (lib/contracts/checks.ts). Here a turn's lines are split into the agent's own events
 * and check blocks, so the page shows a check as one block, not as JSON and loose lines. A line
 * between markers is the command's output as it printed it, never read as an agent event.
 */
import { readCheckMarker, type CheckMarker, type CheckSource } from "@/lib/contracts/checks";
import { readLine, type LineEvent } from "./agent-output";

type StartMarker = Extract<CheckMarker, { phase: "start" }>;
type EndMarker = Extract<CheckMarker, { phase: "end" }>;

/** How a command ended; null in a block whose end marker has not come (yet). */
export type CheckEnd = Pick<EndMarker, "exitCode" | "durationMs" | "timedOut">;

export type CheckBlock = { command: string; source: CheckSource; index: number; of: number; lines: string[]; end: CheckEnd | null };

/** One line of a turn's output as read: an agent event, a marker, or a line a check printed. */
export type TurnPiece = { kind: "event"; event: LineEvent } | { kind: "start"; marker: StartMarker } | { kind: "end"; marker: EndMarker } | { kind: "output"; text: string };

/** A turn's output in order: runs of the agent's events, and check blocks. */
export type TurnSegment = { kind: "agent"; events: LineEvent[] } | { kind: "check"; block: CheckBlock };

/** Reads a batch's lines; `inCheck`: the batch starts inside a check's output (one began in an earlier batch). */
export function readBatchLines(lines: readonly string[], inCheck: boolean): { pieces: TurnPiece[]; inCheck: boolean } {
  const pieces: TurnPiece[] = [];
  for (const line of lines) {
    const marker = readCheckMarker(line);
    if (marker?.phase === "start") {
      pieces.push({ kind: "start", marker });
      inCheck = true;
    } else if (marker?.phase === "end") {
      pieces.push({ kind: "end", marker });
      inCheck = false;
    } else if (inCheck) {
      pieces.push({ kind: "output", text: line });
    } else {
      for (const event of readLine(line)) pieces.push({ kind: "event", event });
    }
  }
  return { pieces, inCheck };
}

/** Groups a turn's pieces into the agent's runs of events and check blocks, in order. */
export function turnSegments(pieces: Iterable<TurnPiece>): TurnSegment[] {
  const segments: TurnSegment[] = [];
  let open: CheckBlock | undefined;
  for (const piece of pieces) {
    switch (piece.kind) {
      case "start": {
        const { command, source, index, of } = piece.marker;
        // A start before the last one ended leaves that one without a result.
        open = { command, source, index, of, lines: [], end: null };
        segments.push({ kind: "check", block: open });
        break;
      }
      case "output":
        open?.lines.push(piece.text);
        break;
      case "end":
        // An end without its start (it was never stored) has no lines to show: it is left out.
        if (open) open.end = { exitCode: piece.marker.exitCode, durationMs: piece.marker.durationMs, timedOut: piece.marker.timedOut };
        open = undefined;
        break;
      case "event": {
        const last = segments.at(-1);
        if (last?.kind === "agent") last.events.push(piece.event);
        else segments.push({ kind: "agent", events: [piece.event] });
      }
    }
  }
  return segments;
}


/** Where a command stands: running until it ends (while the turn goes on), then passed or failed; `unknown`: it never ended. */
export type CheckRunState = "running" | "passed" | "failed" | "unknown";

export function checkRunState(end: CheckEnd | null, running: boolean): CheckRunState {
  if (!end) return running ? "running" : "unknown";
  return end.exitCode === 0 && !end.timedOut ? "passed" : "failed";
}
