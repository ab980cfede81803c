/**
 * Every callback to the control plane goes through this on-disk outbox: written before the first
 * attempt, retried with exponential backoff and full jitter, resumed after a restart. An entry's
 * key is its message id, so enqueueing the same message again (a crash between a step and its
 * bookkeeping) replaces it rather than sending it twice; the control plane ignores repeats of a
 * message id anyway. A 4xx other than 408/429 is permanent; spent entries move to `dead/`.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { backoffDelay, isPermanent, type RetryPolicy } from "./callbacks";
import type { Log } from "./log";
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
  private closed = false;

  constructor(
    dir: string,
    private readonly baseUrl: string,
    private readonly policy: RetryPolicy,
    private readonly log: Log,
  ) {
    // Entries carry callback tokens: the daemon's alone, not its workspaces' users'.
    this.pending = new RecordStore(dir, Entry, { ownerOnly: true });
    this.dead = new RecordStore(path.join(dir, "dead"), Entry, { ownerOnly: true });
  }

  /** Resumes every entry a previous run left behind. */
  start() {
    for (const { value } of this.pending.list()) this.schedule(value.messageId, Math.max(0, value.nextAttemptAt - Date.now()));
  }

  /**
   * Forgets a message, pending or spent, before start() would resume it: one that a newer message
   * replaces (a previous run's ready report, whose port or certificate this run no longer serves).
   */
  discard(messageId: string) {
    this.pending.delete(messageId);
    this.dead.delete(messageId);
  }

  /** Persists the message, then delivers it in the background. */
  enqueue(messageId: string, callbackPath: string, token: string, body: Record<string, unknown>) {
    const now = Date.now();
    this.pending.put(messageId, { messageId, path: callbackPath, token, body, attempts: 0, createdAt: now, nextAttemptAt: now });
    this.schedule(messageId, 0);
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
      this.pending.put(value.messageId, { ...value, outcome: undefined, attempts: 0, createdAt: now, nextAttemptAt: now });
      this.dead.delete(value.messageId);
      this.log("info", "callback sent again: the control plane answers", { path: value.path, messageId: value.messageId });
      this.schedule(value.messageId, 0);
    }
    return revived.length;
  }

  close() {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(messageId: string, delayMs: number) {
    if (this.closed || this.timers.has(messageId) || this.inFlight.has(messageId)) return;
    this.timers.set(
      messageId,
      setTimeout(() => {
        this.timers.delete(messageId);
        this.attempt(messageId).catch((error: unknown) => {
          if (!this.closed) this.log("error", "callback attempt failed", { messageId, error: String(error) });
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
      this.log("info", "callback delivered", { path: entry.path, messageId, attempt });
      return this.settle(messageId, "delivered");
    }
    if (this.closed) return; // the next start resumes this entry from disk
    const permanent = status !== undefined && isPermanent(status);
    const delay = backoffDelay(attempt, this.policy);
    const spent = attempt >= this.policy.maxAttempts || Date.now() + delay - entry.createdAt > this.policy.maxElapsedMs;
    if (permanent || spent) {
      this.dead.put(messageId, { ...entry, attempts: attempt, lastError: error, outcome: permanent ? "refused" : "gave_up" });
      this.pending.delete(messageId);
      this.log("error", permanent ? "callback refused" : "callback given up", { path: entry.path, messageId, attempt, error });
      return this.settle(messageId, permanent ? "refused" : "gave_up");
    }
    this.pending.put(messageId, { ...entry, attempts: attempt, nextAttemptAt: Date.now() + delay, lastError: error });
    this.log("warn", "callback failed, retrying", { path: entry.path, messageId, attempt, delayMs: delay, error });
    this.schedule(messageId, delay);
  }
}

/** The outbox's folder under the vm-agent's work folder. */
export const outboxDir = (workDir: string) => {
  const dir = path.join(workDir, "outbox");
  fs.mkdirSync(dir, { recursive: true });
  return dir;
};
