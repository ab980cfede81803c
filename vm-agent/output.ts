/**
 * Ships an agent's output (its log: plain lines, or a CLI's JSON event stream) to the control
 * plane while it works, in batches through the outbox (how the log becomes batches: output-lines.ts).
 * A batch's message id is its byte offset in the log, and a batch is a function of its byte range
 * alone, so one re-sent after a restart is the same batch, recognised as such.
 */
import fs from "node:fs";
import { callbackPaths, type AgentOutputCallback } from "../lib/contracts/vm-agent";
import type { Logger } from "./log";
import type { Outbox } from "./outbox";
import { readBatch, type Batch, type Unfinished } from "./output-lines";

/**
 * Batches one flush hands over while the agent runs (about 1 MiB): bounds the time a tick blocks
 * and what lands on the outbox at once when an agent floods its log. The final flush ships all.
 */
const BATCHES_PER_FLUSH = 4;

/** The outbox lane of a session's output batches. */
export const outputLane = (sessionId: string) => `output:${sessionId}`;

export type OutputTarget = { workspaceId: string; sessionId: string; turn: number; callbackToken: string; logFile: string };

export type OutputShipperOptions = {
  target: OutputTarget;
  outbox: Pick<Outbox, "enqueue">;
  flushIntervalMs: number;
  /** Where the next batch starts (everything before it was handed to the outbox). */
  offset: number;
  /** Where the last batch handed over started: after a restart it is sent again (it may not have reached the outbox). */
  resendFrom?: number;
  /** Called with a batch's byte range before it is enqueued, so the range is on record first. */
  onShipped: (start: number, end: number) => void;
  /** Applied to every line before it leaves the node (the session's secrets become [redacted]). */
  redact?: (line: string) => string;
  log: Logger;
};

export class OutputShipper {
  private offset: number;
  private unfinished: Unfinished | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** The newest batch handed to the outbox. */
  lastMessageId: string | undefined;

  constructor(private readonly options: OutputShipperOptions) {
    this.offset = options.offset;
  }

  /** Re-sends the last batch, then ships new lines every flush interval: bursts travel as one batch. */
  start() {
    this.resend();
    this.timer = setInterval(() => {
      try {
        this.flush();
      } catch (error) {
        this.options.log.error("shipping agent output failed", { workspaceId: this.options.target.workspaceId, sessionId: this.options.target.sessionId, error: String(error) });
      }
    }, this.options.flushIntervalMs);
  }

  /** Sends the complete lines written since the last batch (everything, a last partial line too, when `final`). */
  flush(final = false) {
    for (let shipped = 0; final || shipped < BATCHES_PER_FLUSH; shipped++) {
      const read = this.read(this.offset, undefined, final);
      this.unfinished = read?.unfinished;
      if (!read?.batch) return;
      const start = this.offset;
      this.offset = read.batch.end;
      this.options.onShipped(start, read.batch.end);
      this.enqueue(start, read.batch);
    }
  }

  stop(final: boolean) {
    if (this.timer) clearInterval(this.timer);
    if (final) this.flush(true);
  }

  /** After a restart: the batch recorded last, rebuilt from its byte range, under its message id. */
  private resend() {
    const from = this.options.resendFrom;
    if (from === undefined || from >= this.offset) return;
    const batch = this.read(from, this.offset, true)?.batch;
    if (batch?.end === this.offset) this.enqueue(from, batch);
  }

  private read(from: number, until: number | undefined, final: boolean) {
    let fd: number;
    try {
      fd = fs.openSync(this.options.target.logFile, "r");
    } catch {
      return undefined; // no log yet: the agent has not started
    }
    try {
      const limit = until ?? fs.fstatSync(fd).size;
      return limit > from ? readBatch(fd, from, limit, final, this.unfinished) : undefined;
    } finally {
      fs.closeSync(fd);
    }
  }

  private enqueue(offset: number, batch: Batch) {
    const { target, outbox } = this.options;
    const messageId = `${target.sessionId}-out-${offset}`;
    const redact = this.options.redact;
    const lines = redact ? batch.lines.map(redact) : batch.lines;
    const body: AgentOutputCallback = { messageId, workspaceId: target.workspaceId, turn: target.turn, offset, lines };
    // One lane per session: its batches reach the control plane in the order they were written.
    outbox.enqueue(messageId, callbackPaths.agentOutput(target.sessionId), target.callbackToken, body, { lane: outputLane(target.sessionId) });
    this.lastMessageId = messageId;
  }
}
