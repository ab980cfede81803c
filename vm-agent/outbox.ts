/**
 * Every callback to the control plane goes through this on-disk outbox: written before the first
 * attempt, retried with exponential backoff and full jitter, resumed after a restart. An entry's
 * key is its message id, so enqueueing the same message again (a crash between a step and its
 * bookkeeping) replaces it rather than sending it twice; the control plane ignores repeats of a
 * message id anyway. A 4xx other than 408/429 is permanent; spent entries move to `dead/`.
 *
 * Messages are sent independently, except those given a `lane`: one lane's messages go one at a
 * time, in the order they were enqueued (a retried one holds back those after it), across restarts
 * too. A session's output batches share a lane, so the control plane stores them in the order the
 * agent wrote them and the last batch's delivery means every earlier one's.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { backoffDelay, isPermanent, type RetryPolicy } from "./callbacks";
import { nodeWorkDirLayout } from "../lib/contracts/node-layout";
import type { Logger } from "./log";
import { RecordStore } from "./state/records";

const Entry = z.object({
  messageId: z.string(),
  path: z.string(),
  token: z.string(),
  body: z.record(z.string(), z.unknown()),
  attempts: z.number().int(),
  createdAt: z.number(),
  nextAttemptAt: z.number(),
  lastError: z.string().optional(),
  /** Messages of one lane are delivered one at a time, by `order`. */
  lane: z.string().optional(),
  /** Where the message stands among everything this outbox was given (grows across restarts). */
  order: z.number().optional(),
  /** Set on spent entries: why delivery ended. */
  outcome: z.enum(["refused", "gave_up"]).optional(),
});
type Entry = z.infer<typeof Entry>;

export type OutboxResult = "delivered" | "refused" | "gave_up";

export class Outbox {
  private readonly pending: RecordStore<typeof Entry>;
  private readonly dead: RecordStore<typeof Entry>;
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly inFlight = new Set<string>();
  private readonly listeners = new Map<string, ((result: OutboxResult) => void)[]>();
  /** Per lane, its pending messages in order: only the first is ever scheduled. */
  private readonly lanes = new Map<string, Entry[]>();
  private nextOrder = 0;
  private closed = false;

  constructor(
    dir: string,
    private readonly baseUrl: string,
    private readonly policy: RetryPolicy,
    private readonly log: Logger,
  ) {
    // Entries carry callback tokens: the daemon's alone, not its workspaces' users'.
    this.pending = new RecordStore(dir, Entry, { ownerOnly: true });
    this.dead = new RecordStore(path.join(dir, "dead"), Entry, { ownerOnly: true });
    const left = [...this.pending.list(), ...this.dead.list()].map(({ value }) => value.order ?? 0);
    this.nextOrder = Math.max(0, ...left) + 1;
  }

  /** Resumes every entry a previous run left behind, each lane in its order. */
  start() {
    const entries = this.pending.list().map(({ value }) => value);
    for (const entry of entries.sort((a, b) => (a.order ?? 0) - (b.order ?? 0))) {
      if (entry.lane) this.joinLane(entry);
      else this.schedule(entry.messageId, Math.max(0, entry.nextAttemptAt - Date.now()));
    }
    for (const queue of this.lanes.values()) this.scheduleHead(queue);
  }

  /**
   * Forgets a message, pending or spent, before start() would resume it: one that a newer message
   * replaces (a previous run's ready report, whose port or certificate this run no longer serves).
   */
  discard(messageId: string) {
    const entry = this.pending.get(messageId);
    if (entry) this.leaveLane(entry);
    this.pending.delete(messageId);
    this.dead.delete(messageId);
  }

  /** Persists the message, then delivers it in the background (after those before it in its `lane`). */
  enqueue(messageId: string, callbackPath: string, token: string, body: Record<string, unknown>, options: { lane?: string } = {}) {
    const now = Date.now();
    const { lane } = options;
    // The same message enqueued again keeps its place in its lane.
    const order = this.pending.get(messageId)?.order ?? this.nextOrder++;
    const entry: Entry = { messageId, path: callbackPath, token, body, attempts: 0, createdAt: now, nextAttemptAt: now, order, ...(lane ? { lane } : {}) };
    this.pending.put(messageId, entry);
    if (!lane) return this.schedule(messageId, 0);
    this.scheduleHead(this.joinLane(entry));
  }

  /** Resolves when the message is delivered, refused or given up (for tests and shutdown). */
  settled(messageId: string): Promise<OutboxResult> {
    if (!this.pending.get(messageId)) {
      const dead = this.dead.get(messageId);
      return Promise.resolve(dead ? (dead.outcome ?? "gave_up") : "delivered");
    }
    return new Promise((resolve) => this.listeners.set(messageId, [...(this.listeners.get(messageId) ?? []), resolve]));
  }

  size() {
    return this.pending.keys().length;
  }

  /**
   * Sends again what was given up because the control plane could not be reached (not what it
   * refused): called when it answers again (a heartbeat got through), so a callback that outlived
   * its retries while the control plane was down is not lost. It dedupes by message id.
   */
  retryGivenUp(): number {
    if (this.closed) return 0;
    const revived = this.dead.list().filter(({ value }) => (value.outcome ?? "gave_up") === "gave_up");
    const now = Date.now();
    for (const { value } of revived) {
      const entry: Entry = { ...value, outcome: undefined, attempts: 0, createdAt: now, nextAttemptAt: now };
      this.pending.put(value.messageId, entry);
      this.dead.delete(value.messageId);
      this.log.info("callback sent again: the control plane answers", { path: value.path, messageId: value.messageId });
      if (entry.lane) this.scheduleHead(this.joinLane(entry));
      else this.schedule(value.messageId, 0);
    }
    return revived.length;
  }

  close() {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** Puts the entry in its place in its lane's queue (once); returns the queue. */
  private joinLane(entry: Entry): Entry[] {
    const lane = entry.lane ?? "";
    const queue = this.lanes.get(lane) ?? [];
    this.lanes.set(lane, queue);
    if (!queue.some((queued) => queued.messageId === entry.messageId)) {
      queue.push(entry);
      queue.sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
    }
    return queue;
  }

  /** Schedules the lane's first message when it is due; the rest wait for it to settle. */
  private scheduleHead(queue: Entry[]) {
    const head = queue[0];
    if (head) this.schedule(head.messageId, Math.max(0, (this.pending.get(head.messageId)?.nextAttemptAt ?? 0) - Date.now()));
  }

  /** The message left the pending set: the next one in its lane may go. */
  private leaveLane(entry: Entry) {
    if (!entry.lane) return;
    const queue = this.lanes.get(entry.lane);
    if (!queue) return;
    const index = queue.findIndex((queued) => queued.messageId === entry.messageId);
    if (index >= 0) queue.splice(index, 1);
    if (queue.length === 0) this.lanes.delete(entry.lane);
    else this.scheduleHead(queue);
  }

  private schedule(messageId: string, delayMs: number) {
    if (this.closed || this.timers.has(messageId) || this.inFlight.has(messageId)) return;
    this.timers.set(
      messageId,
      setTimeout(() => {
        this.timers.delete(messageId);
        this.attempt(messageId).catch((error: unknown) => {
          if (!this.closed) this.log.error("callback attempt failed", { messageId, error: String(error) });
        });
      }, delayMs),
    );
  }

  private settle(messageId: string, result: OutboxResult) {
    for (const resolve of this.listeners.get(messageId) ?? []) resolve(result);
    this.listeners.delete(messageId);
  }

  private async attempt(messageId: string) {
    const entry = this.pending.get(messageId);
    if (!entry || this.closed) return;
    this.inFlight.add(messageId);
    const attempt = entry.attempts + 1;
    let status: number | undefined;
    let error = "";
    try {
      const response = await fetch(new URL(entry.path, this.baseUrl), {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${entry.token}` },
        body: JSON.stringify(entry.body),
        signal: AbortSignal.timeout(this.policy.requestTimeoutMs),
      });
      status = response.status;
      if (!response.ok) error = `${response.status} ${(await response.text()).slice(0, 300)}`;
    } catch (failure) {
      error = (failure as Error).message;
    } finally {
      this.inFlight.delete(messageId);
    }
    if (status !== undefined && status < 300) {
      this.pending.delete(messageId);
      this.log.info("callback delivered", { path: entry.path, messageId, attempt });
      this.settle(messageId, "delivered");
      return this.leaveLane(entry);
    }
    if (this.closed) return; // the next start resumes this entry from disk
    const permanent = status !== undefined && isPermanent(status);
    const delay = backoffDelay(attempt, this.policy);
    const spent = attempt >= this.policy.maxAttempts || Date.now() + delay - entry.createdAt > this.policy.maxElapsedMs;
    if (permanent || spent) {
      this.dead.put(messageId, { ...entry, attempts: attempt, lastError: error, outcome: permanent ? "refused" : "gave_up" });
      this.pending.delete(messageId);
      this.log.error(permanent ? "callback refused" : "callback given up", { path: entry.path, messageId, attempt, error });
      this.settle(messageId, permanent ? "refused" : "gave_up");
      return this.leaveLane(entry);
    }
    this.pending.put(messageId, { ...entry, attempts: attempt, nextAttemptAt: Date.now() + delay, lastError: error });
    this.log.warn("callback failed, retrying", { path: entry.path, messageId, attempt, delayMs: delay, error });
    this.schedule(messageId, delay);
  }
}

/** The outbox's folder under the vm-agent's work folder. */
export const outboxDir = (workDir: string) => {
  const dir = nodeWorkDirLayout(workDir).outbox;
  fs.mkdirSync(dir, { recursive: true });
  return dir;
};
