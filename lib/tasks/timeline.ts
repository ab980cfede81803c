/**
 * A task's pipeline progress: `executionStep` (only moves forward) and one `task_steps` row per step
 * with its start and end. Re-running a step (an Inngest retry or a re-driven run) is a no-op here.
 */
import { and, eq, inArray, isNull, or, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { tasks, taskSteps } from "@/db/schema";
import { EXECUTION_STEPS, type ExecutionStep } from "../contracts/api";
import type { TaskStepStatus } from "../contracts/statuses";
import { isTerminal } from "./state-machine";
import { publishTaskChange } from "../live/publish";

export type StepOutcome = Exclude<TaskStepStatus, "running">;

const earlierSteps = (step: ExecutionStep) => EXECUTION_STEPS.slice(0, EXECUTION_STEPS.indexOf(step));

export type StartStepOptions = {
  detail?: string;
  /** Run the step again when it already ended (the task moved to another node and starts over there). */
  restart?: boolean;
  /** Start it even though the task already ended (cleanup runs after the end). */
  afterEnd?: boolean;
};

/**
 * Marks `step` as started (if it is not already) and moves executionStep forward to it. A task that
 * already ended (cancelled while a stage was still running) starts no new step, but cleanup.
 */
export async function startStep(executor: Executor, taskId: string, step: ExecutionStep, options: StartStepOptions = {}) {
  await executor.transaction(async (tx) => {
    const [task] = await tx.select({ status: tasks.status }).from(tasks).where(eq(tasks.id, taskId)).for("update");
    if (!task || (isTerminal(task.status) && !options.afterEnd)) return;
    const inserted = await tx
      .insert(taskSteps)
      .values({ taskId, step, status: "running", detail: options.detail ?? null })
      .onConflictDoNothing()
      .returning({ id: taskSteps.id });
    const restarted = options.restart && !inserted.length
      ? await tx
          .update(taskSteps)
          .set({ status: "running", startedAt: sql`now()`, endedAt: null, detail: options.detail ?? null })
          .where(and(eq(taskSteps.taskId, taskId), eq(taskSteps.step, step), sql`${taskSteps.status} <> 'running'`))
          .returning({ id: taskSteps.id })
      : [];
    const before = earlierSteps(step);
    const advanced = await tx
      .update(tasks)
      .set({ executionStep: step, updatedAt: sql`now()` })
      .where(
        and(
          eq(tasks.id, taskId),
          before.length ? or(isNull(tasks.executionStep), inArray(tasks.executionStep, before)) : isNull(tasks.executionStep),
        ),
      )
      .returning({ id: tasks.id });
    if (inserted.length || restarted.length || advanced.length) await publishTaskChange(tx, taskId, "step");
  });
}

/** Ends a running step. A step that already ended keeps its first outcome. */
export async function finishStep(
  executor: Executor,
  taskId: string,
  step: ExecutionStep,
  outcome: StepOutcome,
  detail?: string,
) {
  await executor.transaction(async (tx) => {
    const ended = await tx
      .update(taskSteps)
      .set({ status: outcome, endedAt: sql`now()`, ...(detail !== undefined ? { detail } : {}) })
      .where(and(eq(taskSteps.taskId, taskId), eq(taskSteps.step, step), eq(taskSteps.status, "running")))
      .returning({ id: taskSteps.id });
    if (ended.length) await publishTaskChange(tx, taskId, "step");
  });
}

/** Records a step that was not needed (for example provisioning when a node was already there). */
export async function skipStep(executor: Executor, taskId: string, step: ExecutionStep, detail: string) {
  await executor.transaction(async (tx) => {
    const inserted = await tx
      .insert(taskSteps)
      .values({ taskId, step, status: "skipped", detail, endedAt: sql`now()` })
      .onConflictDoNothing()
      .returning({ id: taskSteps.id });
    if (inserted.length) await publishTaskChange(tx, taskId, "step");
  });
}

/**
 * Records `step` as failed when the task has no row for it: a node's failure report can arrive
 * before the run started waiting on that step, and the timeline must still show where it failed.
 */
export async function failStepIfAbsent(executor: Executor, taskId: string, step: ExecutionStep, detail: string) {
  const inserted = await executor
    .insert(taskSteps)
    .values({ taskId, step, status: "failed", detail, endedAt: sql`now()` })
    .onConflictDoNothing()
    .returning({ id: taskSteps.id });
  if (inserted.length) await publishTaskChange(executor, taskId, "step");
}

/** Fails whatever step is still running (used when the whole run fails or is cancelled). */
export async function failRunningSteps(executor: Executor, taskId: string, outcome: "failed" | "skipped", detail: string) {
  await executor.transaction(async (tx) => {
    const ended = await tx
      .update(taskSteps)
      .set({ status: outcome, endedAt: sql`now()`, detail })
      .where(and(eq(taskSteps.taskId, taskId), eq(taskSteps.status, "running")))
      .returning({ id: taskSteps.id });
    if (ended.length) await publishTaskChange(tx, taskId, "step");
  });
}

/** Says what a running step is doing (a queued task: why it waits). */
export async function setStepDetail(executor: Executor, taskId: string, step: ExecutionStep, detail: string) {
  await executor.transaction(async (tx) => {
    const changed = await tx
      .update(taskSteps)
      .set({ detail })
      .where(and(eq(taskSteps.taskId, taskId), eq(taskSteps.step, step), eq(taskSteps.status, "running"), sql`${taskSteps.detail} is distinct from ${detail}`))
      .returning({ id: taskSteps.id });
    if (changed.length) await publishTaskChange(tx, taskId, "step");
  });
}
