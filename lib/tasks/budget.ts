/**
 * Changing budgets from the person's side: a task's own (PUT /api/tasks/{id}/budget) and the
 * person's per day and per month (PUT /api/settings/budgets). Raising one releases the tasks it
 * held (lib/budgets/limits.ts) and wakes their runs, which resume the same session.
 */
import { and, eq, inArray, isNotNull } from "drizzle-orm";
import type { Db, Executor } from "@/db/client";
import { agentSessions, tasks, users } from "@/db/schema";
import type { Config } from "../config";
import type { PersonBudgets, PersonBudgetsView, TaskBudgetView, TaskStatus } from "../contracts/api";
import { taskFollowup } from "../contracts/events";
import { RUN_TASK_STATUSES } from "../contracts/statuses";
import { personLimits, releaseIfUnder, taskBudgetView, usd } from "../budgets/limits";
import { personSpend, taskSpend } from "../budgets/spend";
import { isTerminal } from "./state-machine";
import { wakeRuns, type WakeDeps } from "./wake-run";

type Deps = WakeDeps & { db: Db; config: Config };

export type SetBudgetResult =
  | { outcome: "set"; budget: TaskBudgetView }
  | { outcome: "not_found" }
  | { outcome: "ended"; status: TaskStatus }
  /** A budget at or under what the task spent would hold it at once. */
  | { outcome: "too_low"; spentUsd: number };

/** The session of the task's current workspace, which a release resumes. */
async function currentSession(executor: Executor, workspaceId: string | null): Promise<string | null> {
  if (!workspaceId) return null;
  const [row] = await executor.select({ id: agentSessions.id }).from(agentSessions).where(eq(agentSessions.workspaceId, workspaceId)).limit(1);
  return row?.id ?? null;
}

/** Releases each of `taskIds` no budget holds any more, in one transaction each, and wakes their runs. */
async function release(deps: Deps, taskIds: readonly string[]) {
  const released: string[] = [];
  for (const taskId of taskIds) {
    const done = await deps.db.transaction(async (tx) => {
      const [task] = await tx.select({ workspaceId: tasks.workspaceId }).from(tasks).where(eq(tasks.id, taskId)).for("update");
      return task ? (await releaseIfUnder(tx, deps.config, taskId, await currentSession(tx, task.workspaceId))).released : false;
    });
    if (done) released.push(taskId);
  }
  if (released.length) await wakeRuns(deps, released.map((taskId) => taskFollowup.create({ taskId })), "log");
  return released;
}

export async function setTaskBudget(deps: Deps, ownerId: string, taskId: string, budgetUsd: number): Promise<SetBudgetResult> {
  const [task] = await deps.db.select({ userId: tasks.userId, status: tasks.status }).from(tasks).where(eq(tasks.id, taskId));
  if (!task || task.userId !== ownerId) return { outcome: "not_found" };
  if (isTerminal(task.status)) return { outcome: "ended", status: task.status };
  const spentUsd = await taskSpend(deps.db, taskId);
  if (budgetUsd !== 0 && budgetUsd <= spentUsd) return { outcome: "too_low", spentUsd };
  await deps.db.update(tasks).set({ budgetUsd: budgetUsd || null }).where(eq(tasks.id, taskId));
  await release(deps, [taskId]);
  return { outcome: "set", budget: await taskBudgetView(deps.db, deps.config, taskId, budgetUsd || null) };
}

/** Words for a budget that is too low, naming what was spent. */
export const tooLowMessage = (spentUsd: number) => `must be more than the ${usd(spentUsd)} the task has spent (or 0 for no limit)`;

export async function personBudgetsView(executor: Executor, config: Config, userId: string): Promise<PersonBudgetsView> {
  const [[row], limits, spent] = await Promise.all([
    executor.select({ budgets: users.budgets }).from(users).where(eq(users.id, userId)),
    personLimits(executor, config, userId),
    personSpend(executor, userId),
  ]);
  return { own: { dailyUsd: row?.budgets?.dailyUsd ?? null, monthlyUsd: row?.budgets?.monthlyUsd ?? null }, ...limits, spentTodayUsd: spent.day, spentThisMonthUsd: spent.month };
}

/** Saves the person's own limits, then releases their tasks the new limits no longer hold. */
export async function setPersonBudgets(deps: Deps, userId: string, budgets: PersonBudgets): Promise<PersonBudgetsView> {
  await deps.db.update(users).set({ budgets }).where(eq(users.id, userId));
  const held = await deps.db
    .select({ id: tasks.id })
    .from(tasks)
    .where(and(eq(tasks.userId, userId), isNotNull(tasks.budgetPausedAt), inArray(tasks.status, RUN_TASK_STATUSES)));
  await release(deps, held.map((t) => t.id));
  return personBudgetsView(deps.db, deps.config, userId);
}
