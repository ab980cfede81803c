/**
 * The one way a task's run is woken: after a change was committed (a callback, a person's action, a
 * freed slot, a safety net), send the event that says what happened, so the run looks at the
 * database now (its waits listen for the events of their stage: lib/pipeline/wait-events.ts).
 *
 * Wakes are coalesced per task and event name before they reach the engine. Sending one records its
 * name on the task (`wakes_sent`, with when); every look of the run empties that record before it
 * reads the database (lib/pipeline/run.ts `recordRunCheckIn`). While a name is recorded, the run has
 * not looked since that event was sent, so its look (which comes after this writer's commit) will see
 * this change too: no second event of that name is sent. A burst of a thousand wakes reaches the
 * engine as one, and a run never spends its steps (the engine allows 1,000 per run) on wakes it
 * would have answered with the same look. Coalescing per name, not per task: an event the run is
 * not listening for (a node's ready report while it waits for its workspace) wakes nobody, so it
 * must not hold back the one its wait listens for. A record older than WAKE_RESEND_AFTER is taken
 * for a lost wake (the engine was down, the app died between its record and its send), and the
 * next wake of that name goes out.
 */
import { and, inArray, or, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { tasks } from "@/db/schema";
import type { Config } from "../config";
import type { SendEvents, WakeEvent } from "../contracts/events";
import { log } from "../log";

export type WakeDeps = { db: Executor; send: SendEvents; config: Pick<Config, "WAKE_RESEND_AFTER"> };

/**
 * What the caller does when the engine cannot take a wake, said at every call:
 * - "throw": the caller's own retry sends it again (a callback the node resends, a pass that runs again);
 * - "log": the change stands on its own (a person's cancel, follow-up or finish), and the run sees it
 *   at its next look anyway, so the writer answers as usual and the failure is logged.
 */
export type IfWakeRefused = "throw" | "log";

/** Sends the wake `events`; answers the tasks whose wake went to the engine (the others have one of the same name outstanding). */
export async function wakeRuns(deps: WakeDeps, events: readonly WakeEvent[], ifRefused: IfWakeRefused): Promise<string[]> {
  try {
    return await sendWakes(deps, events);
  } catch (error) {
    if (ifRefused === "throw") throw error;
    log.warn("the change is recorded, but its wake could not be sent: the run sees it at its next look", { events: events.map((e) => `${e.name} ${e.data.taskId}`).join(", "), error: String(error) });
    return [];
  }
}

async function sendWakes(deps: WakeDeps, events: readonly WakeEvent[]): Promise<string[]> {
  const byName = new Map<string, Map<string, WakeEvent>>();
  for (const event of events) {
    const forName = byName.get(event.name) ?? new Map<string, WakeEvent>();
    if (!forName.has(event.data.taskId)) forName.set(event.data.taskId, event);
    byName.set(event.name, forName);
  }
  const resendBefore = sql`now() - ${`${deps.config.WAKE_RESEND_AFTER} milliseconds`}::interval`;
  const woken = new Set<string>();
  for (const [name, forName] of byName) {
    const sentAt = sql`(${tasks.wakesSent} ->> ${name}::text)`;
    const recorded = await deps.db
      .update(tasks)
      .set({ wakesSent: sql`${tasks.wakesSent} || jsonb_build_object(${name}::text, now())` })
      .where(and(inArray(tasks.id, [...forName.keys()]), or(sql`${sentAt} is null`, sql`${sentAt}::timestamptz < ${resendBefore}`)))
      .returning({ id: tasks.id });
    const sending = recorded.map((t) => t.id);
    if (!sending.length) continue;
    try {
      await deps.send(sending.map((taskId) => forName.get(taskId)!));
    } catch (error) {
      // Not sent: the record must not stand for a wake the run will never get.
      await deps.db
        .update(tasks)
        .set({ wakesSent: sql`${tasks.wakesSent} - ${name}::text` })
        .where(inArray(tasks.id, sending));
      throw error;
    }
    for (const taskId of sending) woken.add(taskId);
  }
  return [...woken];
}
