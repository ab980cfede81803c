/**
 * The reconciler: finds tasks that want work but whose run the engine no longer has (it was
 * restarted, it lost the event, the submit route died between its commit and its send) and
 * re-drives them. A run counts as lost when the engine does not know its id or says it ended; a
 * run that has not started yet, when the engine does not know its trigger event, or the event
 * never reached it, or it has not started within RECONCILE_GRACE.
 */
import { desc, inArray } from "drizzle-orm";
import { tasks } from "@/db/schema";
import type { Runtime } from "../runtime";
import { EngineAnswerError, EngineUnreachableError } from "../engine/api";
import { redriveTask, type Redriven } from "./redrive";
import { RUN_TASK_STATUSES } from "../contracts/statuses";

/** How long a submit may take between its commit and recording the engine's event id. */
const SEND_WINDOW_MS = 10_000;
/** How long after it was sent an event may still be missing from the engine's API. */
const EVENT_SETTLE_MS = 5_000;

/** `unreadable`: tasks whose run the engine answered about in a way we could not read; the next pass asks again. */
export type ReconcileReport = { engine: "down" | "up"; checked: number; redriven: Redriven[]; unreadable?: { taskId: string; error: string }[] };

export async function reconcile(rt: Runtime, options: { now?: number } = {}): Promise<ReconcileReport> {
  const now = options.now ?? Date.now();
  if (!(await rt.engine.reachable())) return { engine: "down", checked: 0, redriven: [] };
  const wanting = await rt.db.select().from(tasks).where(inArray(tasks.status, RUN_TASK_STATUSES));
  const redriven: Redriven[] = [];
  const unreadable: { taskId: string; error: string }[] = [];
  for (const task of wanting) {
    let reason: string | undefined;
    try {
      reason = await whyLost(rt, task, now);
    } catch (error) {
      if (error instanceof EngineUnreachableError) return { engine: "down", checked: redriven.length, redriven, unreadable };
      if (!(error instanceof EngineAnswerError)) throw error;
      unreadable.push({ taskId: task.id, error: error.message });
    }
    if (reason) redriven.push(await redriveTask(rt, task, reason));
  }
  return { engine: "up", checked: wanting.length, redriven, unreadable };
}

/** Why the task's run counts as lost, or undefined while it may still be alive. */
async function whyLost(rt: Runtime, task: typeof tasks.$inferSelect, now: number): Promise<string | undefined> {
  if (task.runId) {
    const state = await rt.engine.runState(task.runId);
    if (state === "alive") return undefined;
    return state === "unknown" ? `the engine no longer has run ${task.runId}` : `run ${task.runId} ended without finishing the task`;
  }
  const age = now - (task.runDispatchedAt ?? task.createdAt).getTime();
  if (task.runEventId && age > EVENT_SETTLE_MS && !(await rt.engine.eventKnown(task.runEventId))) return `the engine no longer has its trigger event ${task.runEventId}`;
  if (!task.runEventId && age > SEND_WINDOW_MS) return "its trigger event never reached the engine";
  if (age > rt.config.RECONCILE_GRACE) {
    // A busy engine schedules a run well before it calls its first step (measured: over 30 s with 100 tasks at once on 2 cores).
    if (task.runEventId && (await rt.engine.eventRuns(task.runEventId)).some((run) => run.state === "alive")) return undefined;
    return `its run did not start within ${Math.round(rt.config.RECONCILE_GRACE / 1000)} s`;
  }
  return undefined;
}

/**
 * Whether the engine has lost runs without ever looking unreachable (it was restarted between two
 * supervisor passes): asks about the newest run or trigger event of a task that wants work. A
 * restart loses every run at once, so one that the engine no longer knows stands for all of them.
 * Cheap enough for every supervisor pass: one query and at most one engine request.
 */
export async function engineLostRuns(rt: Runtime, now = Date.now()): Promise<string | undefined> {
  const [task] = await rt.db
    .select({ id: tasks.id, runId: tasks.runId, runEventId: tasks.runEventId, dispatchedAt: tasks.runDispatchedAt, createdAt: tasks.createdAt })
    .from(tasks)
    .where(inArray(tasks.status, RUN_TASK_STATUSES))
    .orderBy(desc(tasks.updatedAt))
    .limit(1);
  // The dev engine answers "not found" for an event sent moments ago (it is not in its history
  // yet): a trigger event is only evidence once it has had time to land.
  const eventSettled = task && now - (task.dispatchedAt ?? task.createdAt).getTime() > EVENT_SETTLE_MS;
  try {
    if (task?.runId && (await rt.engine.runState(task.runId)) === "unknown") return `the engine no longer has run ${task.runId} of task ${task.id}`;
    if (task && !task.runId && task.runEventId && eventSettled && !(await rt.engine.eventKnown(task.runEventId))) return `the engine no longer has the trigger event of task ${task.id}`;
  } catch (error) {
    if (error instanceof EngineUnreachableError || error instanceof EngineAnswerError) return undefined;
    throw error;
  }
  return undefined;
}
