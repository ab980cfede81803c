/**
 * Callbacks to the control plane, retried with exponential backoff and full jitter. A 4xx other
 * than 408/429 is permanent: the control plane understood and refused, so retrying cannot help.
 * (A later issue moves this behind an on-disk outbox so a restart loses nothing.)
 */
import type { Log } from "./log";

export type RetryPolicy = { maxAttempts: number; maxElapsedMs: number; baseDelayMs: number; maxDelayMs: number; requestTimeoutMs: number };

export type CallbackResult = { delivered: true; status: number; attempts: number } | { delivered: false; status?: number; attempts: number; error: string };

export type CallbackClient = (path: string, token: string, body: unknown) => Promise<CallbackResult>;

export const isPermanent = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

export function backoffDelay(attempt: number, policy: RetryPolicy, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

export function callbackClient(baseUrl: string, policy: RetryPolicy, log: Log): CallbackClient {
  return async (path, token, body) => {
    const started = Date.now();
    let lastError = "";
    let lastStatus: number | undefined;
    for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
      try {
        const response = await fetch(new URL(path, baseUrl), {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(policy.requestTimeoutMs),
        });
        lastStatus = response.status;
        if (response.ok) {
          log("info", "callback delivered", { path, status: response.status, attempt });
          return { delivered: true, status: response.status, attempts: attempt };
        }
        lastError = `${response.status} ${(await response.text()).slice(0, 300)}`;
        if (isPermanent(response.status)) {
          log("error", "callback refused", { path, status: response.status, attempt, error: lastError });
          return { delivered: false, status: response.status, attempts: attempt, error: lastError };
        }
      } catch (error) {
        lastError = (error as Error).message;
      }
      const delay = backoffDelay(attempt, policy);
      if (attempt === policy.maxAttempts || Date.now() - started + delay > policy.maxElapsedMs) break;
      log("warn", "callback failed, retrying", { path, attempt, delayMs: delay, error: lastError });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    log("error", "callback given up", { path, error: lastError });
    return { delivered: false, status: lastStatus, attempts: policy.maxAttempts, error: lastError };
  };
}
