/**
 * The one way a task's run is woken: after a change was committed (a callback, a person's action, a
 * freed slot, a safety net), tell the run to look at the database now.
 *
 * Wakes are coalesced per task before they reach the engine. Sending one stamps the task
 * (`wake_sent_at`); every look of the run clears the stamp before it reads the database
 * (lib/pipeline/run.ts `recordRunCheckIn`). While a stamp stands, the run has not looked since that
 * wake, so its look (which comes after this writer's commit) will see this change too: no second
 * wake is sent. A burst of a thousand wakes reaches the engine as one, and a run never spends its
 * steps (the engine allows 1,000 per run) on wakes it would have answered with the same look. A
 * stamp older than WAKE_RESEND_AFTER is taken for a lost wake (the engine was down, the app died
 * between its stamp and its send), and the next wake goes out.
 */
import { and, inArray, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { tasks } from "@/db/schema";
import type { Config } from "../config";
import type { SendEvents, WakeEvent } from "../contracts/events";

export type WakeDeps = { db: Executor; send: SendEvents; config: Pick<Config, "WAKE_RESEND_AFTER"> };

/** Sends the wake `events` (one per task); answers the tasks whose wake went to the engine (the others have one outstanding). Throws when the engine refused it. */
export async function wakeRuns(deps: WakeDeps, events: readonly WakeEvent[]): Promise<string[]> {
  const ids = [...new Set(events.map((e) => e.data.taskId))];
  if (!ids.length) return [];
  const resendBefore = sql`now() - ${`${deps.config.WAKE_RESEND_AFTER} milliseconds`}::interval`;
  const stamped = await deps.db
    .update(tasks)
    .set({ wakeSentAt: sql`now()` })
    .where(and(inArray(tasks.id, ids), or(isNull(tasks.wakeSentAt), lt(tasks.wakeSentAt, resendBefore))))
    .returning({ id: tasks.id });
  const sending = stamped.map((t) => t.id);
  if (!sending.length) return [];
  try {
    await deps.send(sending.map((taskId) => events.find((e) => e.data.taskId === taskId)!));
  } catch (error) {
    // Not sent: the stamp must not stand for a wake the run will never get.
    await deps.db
      .update(tasks)
      .set({ wakeSentAt: null })
      .where(and(inArray(tasks.id, sending), isNotNull(tasks.wakeSentAt)));
    throw error;
  }
  return sending;
}

/**
 * For a person's change (a cancel, a follow-up, finish now): best effort. The change is in the
 * database, and the run sees it at its next look even when the engine cannot take the wake now.
 */
export async function wakeRun(deps: WakeDeps, event: WakeEvent, recorded: string) {
  try {
    await wakeRuns(deps, [event]);
  } catch (error) {
    console.error(JSON.stringify({ level: "warn", msg: `${recorded}; the wake could not be sent`, taskId: event.data.taskId, event: event.name, error: String(error) }));
  }
}
