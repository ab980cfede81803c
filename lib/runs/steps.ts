/**
 * A run's steps. Each run belongs to one generation of the task (`run_generation`); re-driving a
 * task bumps it and sends a new trigger (start.ts), so a run of an older generation that is somehow
 * still alive stops at its next step instead of working beside the new one. Every step records
 * when the run will call again, and what it saw, so a run the engine stops calling can be told
 * (stalled.ts).
 */
import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import { inList, type Executor } from "@/db/client";
import { tasks } from "@/db/schema";
import { TERMINAL_TASK_STATUSES } from "../contracts/statuses";

export class SupersededRunError extends Error {
  constructor(taskId: string, generation: number, current: number | undefined) {
    super(current === undefined ? `task ${taskId} no longer exists` : `run generation ${generation} of task ${taskId} was superseded by generation ${current}`);
    this.name = "SupersededRunError";
  }
}

/** `now() + ms`: when the run promises to call again (`run_next_check_by`, read by stalled.ts). */
const promiseIn = (ms: number) => sql`now() + ${`${Math.ceil(Math.max(0, ms))} milliseconds`}::interval`;

/**
 * The run's first step: records its engine run id on the task when it is the task's current
 * generation and the task still wants work. False: nothing to do (ended, or superseded).
 */
export async function claimRun(db: Executor, taskId: string, generation: number, runId: string, stepMaxMs: number): Promise<boolean> {
  const claimed = await db
    .update(tasks)
    .set({ runId, runNextCheckBy: promiseIn(stepMaxMs), updatedAt: sql`now()` })
    .where(and(eq(tasks.id, taskId), eq(tasks.runGeneration, generation), sql`${tasks.status} not in (${inList(TERMINAL_TASK_STATUSES)})`))
    .returning({ id: tasks.id });
  return claimed.length > 0;
}

/**
 * Every step of a run starts here: throws SupersededRunError unless `generation` is the task's
 * current one, and records in the same statement that the run calls again within `stepMaxMs`
 * (its next step, or its wait's promise), so a run the engine stops calling can be told.
 */
export async function enterStep(db: Executor, taskId: string, generation: number, stepMaxMs: number) {
  const entered = await db
    .update(tasks)
    .set({ runNextCheckBy: promiseIn(stepMaxMs) })
    .where(and(eq(tasks.id, taskId), eq(tasks.runGeneration, generation)))
    .returning({ id: tasks.id });
  if (entered.length) return;
  const [row] = await db.select({ generation: tasks.runGeneration }).from(tasks).where(eq(tasks.id, taskId));
  throw new SupersededRunError(taskId, generation, row?.generation);
}

/**
 * The run's promise to call again within `ms` (a wait's slice, a retry's sleep), made as it looks at
 * the database: the look answers every wake sent before it, so the next one is sent (lib/tasks/wake-run.ts).
 */
export async function recordRunCheckIn(db: Executor, taskId: string, generation: number, ms: number) {
  await db
    .update(tasks)
    .set({ runNextCheckBy: promiseIn(ms), wakesSent: {} })
    .where(and(eq(tasks.id, taskId), eq(tasks.runGeneration, generation)));
}

export async function isCurrentRun(db: Executor, taskId: string, generation: number) {
  const [row] = await db.select({ generation: tasks.runGeneration }).from(tasks).where(eq(tasks.id, taskId));
  return row?.generation === generation;
}

/** Called by the run when it finds its agent's session ended (`endedAt`: when the session says it did). */
export async function recordRunSawAgentEnd(db: Executor, taskId: string, endedAt: Date | null) {
  await db
    .update(tasks)
    .set({ runSawAgentEndAt: sql`now()` })
    .where(and(eq(tasks.id, taskId), or(isNull(tasks.runSawAgentEndAt), endedAt ? lt(tasks.runSawAgentEndAt, endedAt) : sql`false`)));
}
