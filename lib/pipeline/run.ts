/**
 * A task's runs. Each run belongs to one generation of the task (`run_generation`); re-driving a
 * task bumps it and sends a new trigger, so a run of an older generation that is somehow still
 * alive stops at its next step instead of working beside the new one.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { tasks } from "@/db/schema";
import { TERMINAL_STATUSES } from "../tasks/state-machine";
import { inList } from "../nodes/statuses";

export class SupersededRunError extends Error {
  constructor(taskId: string, generation: number, current: number | undefined) {
    super(current === undefined ? `task ${taskId} no longer exists` : `run generation ${generation} of task ${taskId} was superseded by generation ${current}`);
    this.name = "SupersededRunError";
  }
}

/**
 * The run's first step: records its engine run id on the task when it is the task's current
 * generation and the task still wants work. False: nothing to do (ended, or superseded).
 */
export async function claimRun(db: Executor, taskId: string, generation: number, runId: string): Promise<boolean> {
  const claimed = await db
    .update(tasks)
    .set({ runId, updatedAt: sql`now()` })
    .where(and(eq(tasks.id, taskId), eq(tasks.runGeneration, generation), sql`${tasks.status} not in (${inList(TERMINAL_STATUSES)})`))
    .returning({ id: tasks.id });
  return claimed.length > 0;
}

/** Throws SupersededRunError unless `generation` is the task's current one. Every step of a run checks it. */
export async function assertCurrentRun(db: Executor, taskId: string, generation: number) {
  const [row] = await db.select({ generation: tasks.runGeneration }).from(tasks).where(eq(tasks.id, taskId));
  if (row?.generation !== generation) throw new SupersededRunError(taskId, generation, row?.generation);
}

export async function isCurrentRun(db: Executor, taskId: string, generation: number) {
  const [row] = await db.select({ generation: tasks.runGeneration }).from(tasks).where(eq(tasks.id, taskId));
  return row?.generation === generation;
}

/** Records the trigger event the engine accepted for a generation, so the reconciler can ask about it. */
export async function recordRunEvent(db: Executor, taskId: string, generation: number, eventId: string | undefined) {
  if (!eventId) return;
  await db
    .update(tasks)
    .set({ runEventId: eventId })
    .where(and(eq(tasks.id, taskId), eq(tasks.runGeneration, generation)));
}
