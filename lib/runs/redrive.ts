/**
 * Re-driving a task: a new run of the next generation, which continues from what the database
 * records (every stage checks before it acts). The bump is conditional on the generation the
 * caller saw, so two reconcilers never start two runs; the older run stops at its next step.
 */
import { and, eq, sql } from "drizzle-orm";
import { tasks } from "@/db/schema";
import type { Runtime } from "../runtime";
import { recordError } from "../errors";
import { publishTaskChange } from "../live/publish";
import { cleanupTask } from "./cleanup";
import { startRun } from "./start";
import { inList } from "@/db/client";
import { failTask } from "../tasks/fail-task";
import { TERMINAL_TASK_STATUSES } from "../contracts/statuses";

export type Redriven = { taskId: string; outcome: "redriven" | "failed" | "raced"; generation?: number };

export async function redriveTask(
  rt: Runtime,
  task: { id: string; userId: string; runGeneration: number; redriveCount: number },
  reason: string,
  maxRedrives = rt.config.MAX_REDRIVES,
): Promise<Redriven> {
  if (task.redriveCount >= maxRedrives) {
    await failTask(rt.db, task.id, `${reason}; gave up after re-driving it ${task.redriveCount} times`, "system");
    await cleanupTask(rt, task.id);
    return { taskId: task.id, outcome: "failed" };
  }
  const generation = task.runGeneration + 1;
  const bumped = await rt.db.transaction(async (tx) => {
    const rows = await tx
      .update(tasks)
      .set({ runGeneration: generation, runId: null, runEventId: null, runNextCheckBy: null, runDispatchedAt: sql`now()`, redriveCount: sql`${tasks.redriveCount} + 1`, updatedAt: sql`now()` })
      .where(and(eq(tasks.id, task.id), eq(tasks.runGeneration, task.runGeneration), sql`${tasks.status} not in (${inList(TERMINAL_TASK_STATUSES)})`))
      .returning({ id: tasks.id });
    if (!rows.length) return false;
    await recordError(tx, { taskId: task.id, kind: "recovery", step: null, message: `${reason}; re-driven as run generation ${generation}` });
    await publishTaskChange(tx, task.id, "status");
    return true;
  });
  if (!bumped) return { taskId: task.id, outcome: "raced" };
  // If this send is lost too, the task has no run id after the grace period and is re-driven again.
  await startRun(rt, { taskId: task.id, userId: task.userId, generation });
  return { taskId: task.id, outcome: "redriven", generation };
}
