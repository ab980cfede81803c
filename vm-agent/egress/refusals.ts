/**
 * The proxy's refusals on their way to the control plane: counted per workspace, host, port and
 * reason, and sent as one report (EgressRefusalsCallback) a report interval after the first
 * refusal since the last one, through the outbox (durable from there on, retried like every
 * callback). A loop of refused requests makes a report a second, not a callback per request.
 */
import { randomUUID } from "node:crypto";
import type { EgressRefusal, EgressRefusalsCallback } from "../../lib/contracts/egress";

/** The contract's bound on refusals per report. */
const MAX_PER_REPORT = 500;

export type RefusalSink = (workspaceId: string, body: EgressRefusalsCallback) => void;

export class RefusalReports {
  private readonly pending = new Map<string, Map<string, EgressRefusal>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly send: RefusalSink,
    private readonly intervalMs: number,
  ) {}

  record(workspaceId: string, refusal: { host: string; port: number; reason: EgressRefusal["reason"] }) {
    const counts = this.pending.get(workspaceId) ?? new Map<string, EgressRefusal>();
    this.pending.set(workspaceId, counts);
    const host = refusal.host.slice(0, 255) || "(none)";
    const key = `${host}\0${refusal.port}\0${refusal.reason}`;
    const seen = counts.get(key);
    counts.set(key, { host, port: refusal.port, reason: refusal.reason, count: (seen?.count ?? 0) + 1, lastAt: new Date().toISOString() });
    if (!this.timers.has(workspaceId)) this.timers.set(workspaceId, setTimeout(() => this.flush(workspaceId), this.intervalMs));
  }

  /** Sends what the workspace's proxy refused since its last report (in reports of at most 500). */
  flush(workspaceId: string) {
    clearTimeout(this.timers.get(workspaceId));
    this.timers.delete(workspaceId);
    const refusals = [...(this.pending.get(workspaceId)?.values() ?? [])];
    this.pending.delete(workspaceId);
    for (let start = 0; start < refusals.length; start += MAX_PER_REPORT) {
      const messageId = `${workspaceId}-egress-${randomUUID()}`;
      this.send(workspaceId, { messageId, refusals: refusals.slice(start, start + MAX_PER_REPORT) });
    }
  }

  /** Forgets a deleted workspace's unsent refusals. */
  forget(workspaceId: string) {
    clearTimeout(this.timers.get(workspaceId));
    this.timers.delete(workspaceId);
    this.pending.delete(workspaceId);
  }

  /** Sends everything gathered (the daemon stops). */
  flushAll() {
    for (const workspaceId of [...this.pending.keys()]) this.flush(workspaceId);
  }
}
