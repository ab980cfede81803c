/**
 * Ships an agent's output (its log: plain lines, or a CLI's JSON event stream) to the control
 * plane while it works, in batches through the outbox. A batch's message id is its byte offset in
 * the log, so a batch re-sent after a restart is recognised as the same one.
 */
import fs from "node:fs";
import { callbackPaths } from "../lib/contracts/vm-agent";
import type { Outbox } from "./outbox";

const MAX_BATCH_BYTES = 64 * 1024;

export type OutputTarget = { workspaceId: string; sessionId: string; turn: number; callbackToken: string; logFile: string };

export class OutputShipper {
  private offset: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** The newest batch handed to the outbox. */
  lastMessageId: string | undefined;

  constructor(
    private readonly target: OutputTarget,
    private readonly outbox: Outbox,
    private readonly flushIntervalMs: number,
    startOffset: number,
    private readonly onShipped: (offset: number) => void,
  ) {
    this.offset = startOffset;
  }

  /** Ships new lines every flush interval: bursts of output travel as one batch. */
  start() {
    this.timer = setInterval(() => this.flush(), this.flushIntervalMs);
  }

  /** Sends every complete line written since the last batch (all of it when `final`). */
  flush(final = false) {
    let data: Buffer;
    try {
      const fd = fs.openSync(this.target.logFile, "r");
      try {
        const size = fs.fstatSync(fd).size;
        if (size <= this.offset) return;
        data = Buffer.alloc(Math.min(size - this.offset, MAX_BATCH_BYTES));
        fs.readSync(fd, data, 0, data.length, this.offset);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return;
    }
    const text = data.toString("utf8");
    const end = final ? text.length : text.lastIndexOf("\n") + 1;
    if (end <= 0) return;
    const lines = text.slice(0, end).replace(/\n$/, "").split("\n");
    const messageId = `${this.target.sessionId}-out-${this.offset}`;
    this.outbox.enqueue(messageId, callbackPaths.agentOutput(this.target.sessionId), this.target.callbackToken, {
      messageId,
      workspaceId: this.target.workspaceId,
      turn: this.target.turn,
      offset: this.offset,
      lines,
    });
    this.lastMessageId = messageId;
    this.offset += Buffer.byteLength(text.slice(0, end));
    this.onShipped(this.offset);
    if (final) this.flush(true);
  }

  stop(final: boolean) {
    if (this.timer) clearInterval(this.timer);
    if (final) this.flush(true);
  }
}
