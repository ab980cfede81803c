/**
 * Budgets: what a task may spend (its own budget) and what its person may spend per day and per
 * month. The verdict says which one, if any, the task is at or past now; a task held by one is
 * paused (tasks.budget_paused_at, with the reason in words) until the limit is raised, and a
 * paused task starts no turn, check round or CI round. Raising it resumes the same session: a turn
 * that was interrupted mid-way gets a follow-up from the system asking the agent to go on.
 */
import { and, eq, isNotNull, isNull, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { tasks, users } from "@/db/schema";
import type { Config } from "../config";
import type { TaskBudgetView } from "../contracts/api";
import { publishTaskChange } from "../live/publish";
import { personSpend, taskSpend } from "./spend";
import { queueSystemFollowup } from "../checks/rounds";

export type BudgetKind = "task" | "day" | "month";
export type BudgetVerdict = { over: false } | { over: true; kind: BudgetKind; limitUsd: number; spentUsd: number; reason: string };

type Limits = Pick<Config, "USER_DAILY_BUDGET_USD" | "USER_MONTHLY_BUDGET_USD">;

export const usd = (amount: number) => `$${amount.toFixed(2)}`;

/** The person's own limits per day and per month (0: none): their settings, else the configured ones. */
export async function personLimits(executor: Executor, config: Limits, userId: string): Promise<{ dailyUsd: number; monthlyUsd: number }> {
  const [row] = await executor.select({ budgets: users.budgets }).from(users).where(eq(users.id, userId));
  return { dailyUsd: row?.budgets?.dailyUsd ?? config.USER_DAILY_BUDGET_USD, monthlyUsd: row?.budgets?.monthlyUsd ?? config.USER_MONTHLY_BUDGET_USD };
}

/** Which budget holds the task now, if any: its own first, then its person's day, then month. */
export async function budgetVerdict(executor: Executor, config: Limits, taskId: string, now = new Date()): Promise<BudgetVerdict> {
  const [task] = await executor.select({ userId: tasks.userId, budgetUsd: tasks.budgetUsd }).from(tasks).where(eq(tasks.id, taskId));
  if (!task) return { over: false };
  if (task.budgetUsd) {
    const spent = await taskSpend(executor, taskId);
    if (spent >= task.budgetUsd) return { over: true, kind: "task", limitUsd: task.budgetUsd, spentUsd: spent, reason: `budget of ${usd(task.budgetUsd)} reached (${usd(spent)} spent): raise it or finish` };
  }
  const limits = await personLimits(executor, config, task.userId);
  if (!limits.dailyUsd && !limits.monthlyUsd) return { over: false };
  const spent = await personSpend(executor, task.userId, now);
  if (limits.dailyUsd && spent.day >= limits.dailyUsd) {
    return { over: true, kind: "day", limitUsd: limits.dailyUsd, spentUsd: spent.day, reason: `daily budget of ${usd(limits.dailyUsd)} reached (${usd(spent.day)} spent today): raise it in settings, wait until tomorrow (UTC) or finish` };
  }
  if (limits.monthlyUsd && spent.month >= limits.monthlyUsd) {
    return { over: true, kind: "month", limitUsd: limits.monthlyUsd, spentUsd: spent.month, reason: `monthly budget of ${usd(limits.monthlyUsd)} reached (${usd(spent.month)} spent this month): raise it in settings or finish` };
  }
  return { over: false };
}

/**
 * Holds the task at a budget: keeps the reason (the newest) and, the first time, when and which
 * turn it interrupted (null between turns). Answers whether it was not held before, so the caller
 * interrupts the agent once.
 */
export async function pauseForBudget(tx: Executor, taskId: string, reason: string, interruptedTurn: number | null): Promise<boolean> {
  const paused = await tx
    .update(tasks)
    .set({ budgetPausedAt: sql`now()`, budgetReason: reason, budgetInterruptedTurn: interruptedTurn })
    .where(and(eq(tasks.id, taskId), isNull(tasks.budgetPausedAt)))
    .returning({ id: tasks.id });
  if (!paused.length) await tx.update(tasks).set({ budgetReason: reason }).where(and(eq(tasks.id, taskId), isNotNull(tasks.budgetPausedAt)));
  await publishTaskChange(tx, taskId, "status");
  return paused.length > 0;
}

/** The pause that holds the task, if any. */
export async function budgetPause(executor: Executor, taskId: string): Promise<{ since: Date; reason: string; interruptedTurn: number | null } | undefined> {
  const [row] = await executor.select({ since: tasks.budgetPausedAt, reason: tasks.budgetReason, turn: tasks.budgetInterruptedTurn }).from(tasks).where(eq(tasks.id, taskId));
  return row?.since ? { since: row.since, reason: row.reason ?? "a budget was reached", interruptedTurn: row.turn } : undefined;
}

/** What the system says to the agent when a raised budget resumes the turn it interrupted. */
export const resumeMessage = (turn: number) =>
  `Your previous turn (turn ${turn}) was interrupted because the task's spend budget was reached; your work so far was committed and pushed. The budget has been raised: continue the task where you left off.`;

/**
 * Releases the task when no budget holds it any more; a turn it interrupted gets the system's
 * follow-up to go on (once: its client id is the turn's). Answers whether it was released.
 */
export async function releaseIfUnder(tx: Executor, config: Limits, taskId: string, sessionId: string | null): Promise<{ released: boolean; verdict: BudgetVerdict }> {
  const pause = await budgetPause(tx, taskId);
  const verdict = await budgetVerdict(tx, config, taskId);
  if (!pause || verdict.over) {
    if (pause && verdict.over) await tx.update(tasks).set({ budgetReason: verdict.reason }).where(eq(tasks.id, taskId));
    return { released: false, verdict };
  }
  await tx.update(tasks).set({ budgetPausedAt: null, budgetReason: null, budgetInterruptedTurn: null }).where(eq(tasks.id, taskId));
  if (pause.interruptedTurn !== null && sessionId) {
    await queueSystemFollowup(tx, { taskId, clientId: `budget-resume-${sessionId}-t${pause.interruptedTurn}`, author: "budget", body: resumeMessage(pause.interruptedTurn) });
  }
  await publishTaskChange(tx, taskId, "status");
  return { released: true, verdict };
}

/** The task's budget for its page: its limit, what it spent, and the budget that holds it (which one, as it stands now). */
export async function taskBudgetView(executor: Executor, config: Limits, taskId: string, limitUsd: number | null): Promise<TaskBudgetView> {
  const [spentUsd, pause] = await Promise.all([taskSpend(executor, taskId), budgetPause(executor, taskId)]);
  const verdict = pause ? await budgetVerdict(executor, config, taskId) : undefined;
  return {
    limitUsd,
    spentUsd,
    paused: pause ? { since: pause.since.toISOString(), reason: pause.reason, kind: verdict?.over ? verdict.kind : null, interruptedTurn: pause.interruptedTurn } : null,
  };
}
