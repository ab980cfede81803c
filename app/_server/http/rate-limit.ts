/**
 * A per-key limit on requests per minute, counted in this process's memory (a sliding window of
 * the times of the last `limit` requests per key). For requests that need no account and whose
 * cost is this server's bandwidth and CPU, not a shared quota: each app instance bounds its own.
 */
const WINDOW_MS = 60_000;

export type RateLimiter = {
  /** Counts a request for `key`; answers how many seconds until one more is allowed, or 0 if this one is. */
  take(key: string, now?: number): number;
};

export function rateLimiter(limit: () => number, maxKeys = 10_000): RateLimiter {
  const seen = new Map<string, number[]>();
  return {
    take(key, now = Date.now()) {
      const times = (seen.get(key) ?? []).filter((t) => t > now - WINDOW_MS);
      if (times.length >= limit()) {
        seen.set(key, times);
        return Math.max(1, Math.ceil((times[0]! + WINDOW_MS - now) / 1000));
      }
      times.push(now);
      // Refreshed as the newest key; the oldest keys go first when there are too many.
      seen.delete(key);
      seen.set(key, times);
      if (seen.size > maxKeys) seen.delete(seen.keys().next().value!);
      return 0;
    },
  };
}
