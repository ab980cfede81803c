/**
 * A task's whole record for its owner (`GET /api/tasks/{id}/record`): every attempt's turns with
 * their usage, checks, CI and the agent's closing summary, every message, its pull request and its
 * budget. Kept for the task's life (task_turns and task_messages are never swept), so the record
 * of a task finished long ago is whole.
 */
import { asc, eq } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { agentSessions, taskAttempts, taskTurns } from "@/db/schema";
import type { Config } from "../config";
import type { TaskRecord } from "../contracts/api";
import { CheckCommands, TurnChecks } from "../contracts/checks";
import { TurnCi } from "../contracts/ci";
import { addTurn, NO_USAGE, type TurnUsage, type UsageTotals } from "../contracts/usage";
import { taskBudgetView } from "../budgets/limits";
import { pullRequestView } from "../forge/pull-requests";
import { listMessages } from "./messages";
import { getTask } from "./queries";

type TurnRow = typeof taskTurns.$inferSelect;

function usageOf(row: TurnRow): TurnUsage | null {
  if (row.inputTokens === null || row.outputTokens === null) return null;
  return { inputTokens: row.inputTokens, outputTokens: row.outputTokens, cacheReadTokens: row.cacheReadTokens ?? 0, cacheWriteTokens: row.cacheWriteTokens ?? 0, ...(row.costUsd === null ? {} : { costUsd: row.costUsd }) };
}

const parsedOr = <T>(schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } }, value: unknown): T | null => {
  if (value === null || value === undefined) return null;
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
};

export async function taskRecord(db: Executor, config: Pick<Config, "USER_DAILY_BUDGET_USD" | "USER_MONTHLY_BUDGET_USD">, taskId: string, ownerId: string): Promise<TaskRecord | undefined> {
  const task = await getTask(db, taskId);
  if (!task || task.userId !== ownerId) return undefined;
  const [earlier, turns, messages, pullRequest, budget, [current]] = await Promise.all([
    db.select().from(taskAttempts).where(eq(taskAttempts.taskId, taskId)).orderBy(asc(taskAttempts.id)),
    db.select().from(taskTurns).where(eq(taskTurns.taskId, taskId)).orderBy(asc(taskTurns.id)),
    listMessages(db, taskId),
    pullRequestView(db, taskId),
    taskBudgetView(db, config, taskId, task.budgetUsd),
    task.workspaceId ? db.select({ id: agentSessions.id }).from(agentSessions).where(eq(agentSessions.workspaceId, task.workspaceId)).limit(1) : Promise.resolve([]),
  ]);
  let total: UsageTotals = NO_USAGE;
  const turnsOf = (sessionId: string | null) =>
    turns
      .filter((row) => row.sessionId === sessionId)
      .map((row) => {
        const usage = usageOf(row);
        if (usage) total = addTurn(total, usage);
        return {
          turn: row.turn,
          commit: row.commitSha,
          pushed: row.pushed,
          error: row.error,
          usage,
          costUsd: row.costUsd,
          costSource: row.costSource,
          checks: parsedOr(TurnChecks, row.checks),
          ci: parsedOr(TurnCi, row.ci),
          summary: row.summary,
          endedAt: row.createdAt.toISOString(),
        };
      });
  const attempts: TaskRecord["attempts"] = earlier.map((a, i) => ({ attempt: i + 1, sessionId: a.sessionId, status: a.status, error: a.errorMessage, turns: turnsOf(a.sessionId) }));
  attempts.push({ attempt: earlier.length + 1, sessionId: current?.id ?? null, status: task.status, error: task.errorMessage, turns: current ? turnsOf(current.id) : [] });
  return {
    task: {
      id: task.id,
      repository: task.repository,
      prompt: task.prompt,
      agent: task.agent as TaskRecord["task"]["agent"],
      status: task.status,
      executionStep: task.executionStep as TaskRecord["task"]["executionStep"],
      branch: task.branch,
      model: task.model,
      baseBranch: task.baseBranch,
      commit: task.commitSha,
      usage: total.turns ? { costUsd: total.costUsd, tokens: total.inputTokens + total.outputTokens + total.cacheReadTokens + total.cacheWriteTokens, unpricedTurns: total.unpricedTurns } : null,
      createdAt: task.createdAt.toISOString(),
      updatedAt: task.updatedAt.toISOString(),
      error: task.errorMessage,
      completedAt: task.completedAt?.toISOString() ?? null,
      checks: parsedOr(CheckCommands, task.checks),
    },
    attempts,
    messages,
    pullRequest,
    budget,
    total,
  };
}
