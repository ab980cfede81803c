/**
 * A workspace's boot log, reported while provisioning runs: each stage as it starts and as it ends
 * (with its duration), and the setup script's output in batches, each report one outbox message
 * (so a control plane that is away gets them when it is back). Lines past MAX_LINES are not
 * shipped (the last lines of a failing script are in its failure message).
 */
import { randomUUID } from "node:crypto";
import { callbackPaths, type BootStage } from "../lib/contracts/vm-agent";
import type { Outbox } from "./outbox";

const MAX_LINES = 10_000;
const MAX_LINE = 10_000;

export class BootLog {
  private lines: string[] = [];
  /** Each stream's unfinished last line (stdout and stderr interleave by line, never inside one). */
  private partial = { stdout: "", stderr: "" };
  private shipped = 0;
  private timer: NodeJS.Timeout | undefined;
  private stages = 0;

  constructor(
    private readonly workspaceId: string,
    private readonly token: string,
    private readonly outbox: Outbox,
    private readonly flushMs: number,
  ) {}

  private send(stages: BootStage[], setupOutput: string[]) {
    const messageId = `${this.workspaceId}-boot-${randomUUID()}`;
    this.outbox.enqueue(messageId, callbackPaths.bootLog(this.workspaceId), this.token, { messageId, at: Date.now(), stages, setupOutput });
  }

  /** Runs one stage, reporting its start and its end; the stage's error is rethrown. */
  async stage<T>(stage: string, work: () => Promise<T>, detail?: string): Promise<T> {
    const startedAt = new Date();
    const seq = this.stages++;
    const entry = (status: BootStage["status"], extra: Partial<BootStage> = {}): BootStage => ({ stage, status, startedAt: startedAt.toISOString(), durationMs: status === "running" ? null : Date.now() - startedAt.getTime(), seq, ...(detail ? { detail } : {}), ...extra });
    this.send([entry("running")], []);
    try {
      const result = await work();
      this.flush(true);
      this.send([entry("succeeded")], []);
      return result;
    } catch (error) {
      this.flush(true);
      this.send([entry("failed", { detail: `${detail ? `${detail}: ` : ""}${(error as Error).message}`.slice(0, 2_000) })], []);
      throw error;
    }
  }

  /** A chunk of the setup script's output: whole lines go out every flush interval. */
  output(text: string, stream: "stdout" | "stderr") {
    const parts = (this.partial[stream] + text).split("\n");
    this.partial[stream] = parts.pop() ?? "";
    for (const line of parts) if (this.shipped + this.lines.length < MAX_LINES) this.lines.push(line.slice(0, MAX_LINE));
    if (this.lines.length && !this.timer) this.timer = setTimeout(() => this.flush(), this.flushMs);
  }

  /** Sends the lines gathered so far (with `all`, the unfinished last line too). */
  flush(all = false) {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const stream of all ? (["stdout", "stderr"] as const) : []) {
      if (this.partial[stream]) this.lines.push(this.partial[stream].slice(0, MAX_LINE));
      this.partial[stream] = "";
    }
    if (!this.lines.length) return;
    this.send([], this.lines);
    this.shipped += this.lines.length;
    this.lines = [];
  }
}
