/**
 * The retry rules of callbacks to the control plane (the outbox applies them): exponential backoff
 * with full jitter, and a 4xx other than 408/429 is permanent, since the control plane understood
 * and refused, so retrying cannot help.
 */

export type RetryPolicy = {
  maxAttempts: number;
  maxElapsedMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
  requestTimeoutMs: number;
  /** The jitter's source, in [0, 1); Math.random unless a test pins it. */
  random?: () => number;
};

export const isPermanent = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

export function backoffDelay(attempt: number, policy: RetryPolicy, random = policy.random ?? Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}
