/** Reads the app's live stream (SSE) the way a browser would, for tests and benchmarks. */
import { LiveMessage, type TaskDetail } from "@/lib/contracts/api";
import { isTerminal } from "@/lib/tasks/state-machine";
import type { AppClient } from "@/scripts/system";

export type TaskWatch = {
  /** Resolves with the first state matching `predicate` (checked against every state seen so far). */
  until(predicate: (task: TaskDetail) => boolean, timeoutMs?: number, what?: string): Promise<TaskDetail>;
  /** Every distinct status seen, in order. */
  statuses: string[];
  /** Every state seen, with the time it arrived and its event id. */
  history: { at: number; task: TaskDetail; eventId: number }[];
  /** Resolves at the next keep-alive comment the server sends. */
  nextKeepAlive(timeoutMs?: number): Promise<void>;
  close(): void;
};

/** Watches a task's stream as the system's own client (local mode: its local token); `headers` go over that (a team person's token). */
export async function watchTask(app: AppClient, taskId: string, headers: Record<string, string> = {}): Promise<TaskWatch> {
  const controller = new AbortController();
  const response = await fetch(`${app.appUrl}/api/tasks/${taskId}/events`, { signal: controller.signal, headers: { ...app.authHeaders, ...headers } });
  if (!response.ok || !response.body) throw new Error(`live stream answered ${response.status}`);
  const history: TaskWatch["history"] = [];
  const statuses: string[] = [];
  const waiters = new Set<{ predicate: (t: TaskDetail) => boolean; resolve: (t: TaskDetail) => void }>();
  const keepAliveWaiters = new Set<() => void>();
  let ended: Error | undefined;

  const accept = (task: TaskDetail, eventId: number) => {
    history.push({ at: Date.now(), task, eventId });
    if (statuses[statuses.length - 1] !== task.status) statuses.push(task.status);
    for (const w of waiters) {
      if (!w.predicate(task)) continue;
      waiters.delete(w);
      w.resolve(task);
    }
  };

  void (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (frame.startsWith(": keep-alive")) {
            for (const wake of keepAliveWaiters) wake();
            keepAliveWaiters.clear();
            continue;
          }
          const eventId = Number(/^id: (\d+)$/m.exec(frame)?.[1] ?? NaN);
          const data = frame
            .split("\n")
            .filter((l) => l.startsWith("data: "))
            .map((l) => l.slice(6))
            .join("\n");
          if (!data) continue;
          const message = LiveMessage.parse(JSON.parse(data));
          if (message.type === "task") accept(message.task, eventId);
        }
      }
      ended = new Error("live stream ended");
    } catch (error) {
      ended = error as Error;
    }
  })();

  return {
    statuses,
    history,
    until(predicate, timeoutMs = 60_000, what = "the expected state") {
      const seen = history.find((h) => predicate(h.task));
      if (seen) return Promise.resolve(seen.task);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          const last = history[history.length - 1]?.task;
          reject(new Error(`timed out waiting for ${what}; last state: ${JSON.stringify(last ?? ended?.message)}`));
        }, timeoutMs);
        const waiter = { predicate, resolve: (t: TaskDetail) => (clearTimeout(timer), resolve(t)) };
        waiters.add(waiter);
      });
    },
    nextKeepAlive(timeoutMs = 30_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no keep-alive arrived")), timeoutMs);
        keepAliveWaiters.add(() => (clearTimeout(timer), resolve()));
      });
    },
    close: () => controller.abort(),
  };
}

/** A task that ended and whose cleanup finished (or failed and was recorded for the safety net). */
export const isSettled = (t: TaskDetail) =>
  isTerminal(t.status) && (t.cleanedUpAt !== null || t.steps.some((s) => s.step === "cleanup" && s.status === "failed"));

/**
 * Watches a task's live stream until it ended (completed, failed or cancelled) and was cleaned up.
 * `endedAt` is when the terminal status arrived, which may be before cleanup finished.
 */
export async function untilFinished(app: AppClient, taskId: string, timeoutMs: number): Promise<{ done: TaskDetail; statuses: string[]; endedAt: number }> {
  const watch = await watchTask(app, taskId);
  try {
    const done = await watch.until(isSettled, timeoutMs, "a terminal status and its cleanup");
    const endedAt = watch.history.find((h) => isTerminal(h.task.status))!.at;
    return { done, statuses: watch.statuses, endedAt };
  } finally {
    watch.close();
  }
}

/** Watches a task's live stream until `predicate` holds for it (a wait on the condition, never a sleep); answers that view. */
export async function untilTask(app: AppClient, taskId: string, predicate: (t: TaskDetail) => boolean, what: string, timeoutMs = 90_000): Promise<TaskDetail> {
  const watch = await watchTask(app, taskId);
  try {
    return await watch.until(predicate, timeoutMs, what);
  } finally {
    watch.close();
  }
}
