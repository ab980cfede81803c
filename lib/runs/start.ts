/**
 * Starting a run: the one way a generation of a task gets its trigger, for a submission
 * (generation 0), a retry and a re-drive (the next generation). The caller commits the generation
 * first; then the trigger goes to the engine, and the event id it answers is recorded, so the
 * reconciler can ask the engine about a run that has not started (reconcile.ts). A send that fails
 * throws: the task keeps its generation without an event, and the reconciler starts it later.
 */
import { and, eq } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { tasks } from "@/db/schema";
import { runKey, taskSubmitted, type SendEvents } from "../contracts/events";

export type RunStart = { taskId: string; userId: string; generation: number };
export type StartDeps = { db: Executor; send: SendEvents };

export async function startRun(deps: StartDeps, run: RunStart): Promise<void> {
  const { ids } = await deps.send(taskSubmitted.create({ taskId: run.taskId, userId: run.userId, generation: run.generation, runKey: runKey(run.taskId, run.generation) }));
  await recordRunEvent(deps.db, run.taskId, run.generation, ids[0]);
}

/** `startRun` bound to its dependencies, for the submission and retry of lib/tasks/, which are handed it. */
export const runStarter = (deps: StartDeps) => (run: RunStart) => startRun(deps, run);

/** Records the trigger event the engine accepted for a generation, so the reconciler can ask about it. */
async function recordRunEvent(db: Executor, taskId: string, generation: number, eventId: string | undefined) {
  if (!eventId) return;
  await db
    .update(tasks)
    .set({ runEventId: eventId })
    .where(and(eq(tasks.id, taskId), eq(tasks.runGeneration, generation)));
}
