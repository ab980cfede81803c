/**
 * Hetzner Cloud's rate limit (docs.hetzner.cloud, "Rate Limiting"): each project may make
 * `RateLimit-Limit` requests per hour; `RateLimit-Remaining` says how many are left, and they come
 * back evenly (at 3600 per hour, one a second) until `RateLimit-Reset` (a UNIX time), when all are
 * back. So after a 429, or an answer that left none, the next request may go when one has come
 * back, not only at the reset. The gate remembers that per project (per token) in this process, so
 * calls wait without spending requests on 429s.
 */
import { createHash } from "node:crypto";

export type RateLimit = { limit: number; remaining: number; resetAtMs: number };

/** The RateLimit-* headers of an answer; undefined when they are missing or malformed. */
export function readRateLimit(headers: Headers): RateLimit | undefined {
  const limit = Number(headers.get("ratelimit-limit"));
  const remaining = Number(headers.get("ratelimit-remaining"));
  const reset = Number(headers.get("ratelimit-reset"));
  if (![limit, remaining, reset].every((n) => Number.isFinite(n)) || headers.get("ratelimit-reset") === null || limit <= 0) return undefined;
  return { limit, remaining: Math.max(0, remaining), resetAtMs: reset * 1000 };
}

/** When the next request may go: now while some remain; else when one has come back, and at the latest at the reset. */
export function nextRequestAt(rateLimit: RateLimit, nowMs: number): number {
  if (rateLimit.remaining >= 1) return nowMs;
  const untilReset = Math.max(0, rateLimit.resetAtMs - nowMs);
  // The missing requests come back evenly over the time left until all are back.
  const perRequestMs = Math.ceil(untilReset / rateLimit.limit);
  return nowMs + Math.min(untilReset, Math.max(perRequestMs, 1000));
}

/** Per project (told apart by a hash of its token, never the token), when its next request may go. */
export class RateLimitGate {
  private readonly blockedUntil = new Map<string, number>();

  static keyOf(token: string) {
    return createHash("sha256").update(token).digest("hex").slice(0, 16);
  }

  /** The time (ms) before which this project must not call; undefined when it may now. */
  blocked(key: string, nowMs: number): number | undefined {
    const until = this.blockedUntil.get(key);
    if (until === undefined) return undefined;
    if (until > nowMs) return until;
    this.blockedUntil.delete(key);
    return undefined;
  }

  /** Notes an answer's headers; returns when the next request may go. */
  record(key: string, rateLimit: RateLimit | undefined, nowMs: number): number {
    if (!rateLimit) return nowMs;
    const next = nextRequestAt(rateLimit, nowMs);
    if (next > nowMs) this.blockedUntil.set(key, next);
    else this.blockedUntil.delete(key);
    return next;
  }
}
