/**
 * The node's heartbeat: its load and its sessions, posted to the control plane every interval with
 * the node's callback token. Not through the outbox: a heartbeat is only worth anything when it is
 * fresh, so a failed one is not retried or kept; the next one says more. One at a time (the next
 * is scheduled when the last has ended, on the interval's cadence), each bounded by the request
 * timeout, and failures are logged at warn at most once a minute, since a control plane that is
 * down for an hour would otherwise fill the log with the same line.
 */
import type { NodeHeartbeatCallback } from "../lib/contracts/vm-agent";
import type { Logger } from "./log";

const WARN_EVERY_MS = 60_000;

export type HeartbeatOptions = {
  url: URL;
  token: string;
  /** 0 sends none. */
  intervalMs: number;
  requestTimeoutMs: number;
  /** What to report, gathered afresh for each heartbeat. */
  body: () => Promise<NodeHeartbeatCallback>;
  log: Logger;
  /** Called after each heartbeat the control plane took: it is reachable again. */
  onDelivered?: () => void;
  /** The clock of the warn rate limit (the tests move it); Date.now unless given. */
  now?: () => number;
};

export class Heartbeat {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private running = false;
  /** Failures since the last warning, and when that warning went out. */
  private unreported = 0;
  private lastWarnAt: number | undefined;
  /** A warning went out since the last heartbeat that arrived (so a recovery is worth a line). */
  private failing = false;

  constructor(private readonly options: HeartbeatOptions) {}

  /** Sends the first heartbeat now, then one every interval, until stop(). */
  start() {
    if (this.running || this.options.intervalMs <= 0) return;
    this.running = true;
    this.beat();
  }

  /** Stops the heartbeats; one in flight is abandoned (and not reported as a failure). */
  async stop() {
    this.running = false;
    clearTimeout(this.timer);
    this.abort?.abort();
    await this.inFlight;
  }

  private beat() {
    const startedAt = Date.now();
    this.inFlight = this.send().finally(() => {
      this.inFlight = undefined;
      if (!this.running) return;
      const delay = Math.max(0, this.options.intervalMs - (Date.now() - startedAt));
      this.timer = setTimeout(() => this.beat(), delay);
      // The server keeps the daemon alive; a pending heartbeat alone should not.
      this.timer.unref();
    });
  }

  private async send() {
    const abort = new AbortController();
    this.abort = abort;
    try {
      const body = await this.options.body();
      const response = await fetch(this.options.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.options.token}` },
        body: JSON.stringify(body),
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(this.options.requestTimeoutMs)]),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${response.status} ${text.slice(0, 300)}`);
      this.options.onDelivered?.();
      if (this.failing) this.options.log.info("heartbeat delivered again", { url: this.options.url.pathname });
      this.failing = false;
    } catch (error) {
      if (this.running) this.failed(error);
    }
  }

  private failed(error: unknown) {
    const now = (this.options.now ?? Date.now)();
    this.unreported++;
    if (this.lastWarnAt !== undefined && now - this.lastWarnAt < WARN_EVERY_MS) return;
    this.options.log.warn("heartbeat failed", {
      url: this.options.url.pathname,
      error: (error as Error)?.message ?? String(error),
      failuresSinceLastWarning: this.unreported,
    });
    this.lastWarnAt = now;
    this.unreported = 0;
    this.failing = true;
  }
}
