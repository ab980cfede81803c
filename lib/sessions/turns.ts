/**
 * Each agent turn as it ended, kept for the task's life: its commit, push and the branch's diff
 * against its base (so the review outlives the workspace). The task page shows the newest turn's
 * file list; the patch itself is read on its own (GET /api/tasks/{id}/diff), as it can be large.
 */
import { and, desc, eq, isNotNull, lt } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { tasks, taskTurns } from "@/db/schema";
import type { TaskDiffSummary, TaskDiffView } from "../contracts/api";
import { TurnDiff, type AgentCompletedCallback } from "../contracts/vm-agent";
import { priceTurn, type PriceTable } from "../usage/pricing";
import type { TurnUsage } from "../contracts/usage";
import { agentAdapter, type AgentAdapter, type AgentKind } from "../contracts/agents";
import { streamedTurnUsage } from "../budgets/spend";

/**
 * Records the turn a completion ended (a repeat of the same session turn is a no-op), with what it
 * used and cost: priced now, at today's prices, so a later change of MODEL_PRICES rewrites no history.
 */
export async function recordTurn(executor: Executor, input: { taskId: string; sessionId: string; turn: number; body: AgentCompletedCallback; prices: PriceTable }) {
  const { body } = input;
  const [task] = body.usage ? await executor.select({ model: tasks.model, agent: tasks.agent }).from(tasks).where(eq(tasks.id, input.taskId)) : [];
  const price = body.usage && (await turnPrice(executor, input, body.usage, task));
  // A turn cut short (interrupted at a budget, crashed) reports no total: what its responses cost as they streamed stands in.
  const streamed = body.usage ? undefined : await streamedTurnUsage(executor, input.sessionId, input.turn);
  const reported = body.usage ?? streamed;
  const usage = reported
    ? {
        inputTokens: reported.inputTokens,
        outputTokens: reported.outputTokens,
        cacheReadTokens: reported.cacheReadTokens,
        cacheWriteTokens: reported.cacheWriteTokens,
        costUsd: streamed ? streamed.costUsd : (price?.costUsd ?? null),
        costSource: streamed ? ("estimate" as const) : (price?.source ?? null),
        reportedCostUsd: body.usage?.costUsd ?? null,
      }
    : {};
  await executor
    .insert(taskTurns)
    .values({ taskId: input.taskId, sessionId: input.sessionId, turn: input.turn, commitSha: body.commit, pushed: body.pushed, error: body.error ?? null, diff: body.diff ?? null, checks: body.checks ?? null, summary: body.summary ?? null, ...usage })
    .onConflictDoNothing();
}

/** The agent's closing summary of the newest turn that gave one (a later turn may have said nothing, or failed before it could). */
export async function newestTurnSummary(executor: Executor, taskId: string): Promise<{ turn: number; summary: string } | undefined> {
  const [row] = await executor
    .select({ turn: taskTurns.turn, summary: taskTurns.summary })
    .from(taskTurns)
    .where(and(eq(taskTurns.taskId, taskId), isNotNull(taskTurns.summary)))
    .orderBy(desc(taskTurns.id))
    .limit(1);
  return row?.summary ? { turn: row.turn, summary: row.summary } : undefined;
}

/**
 * A turn's price. A CLI whose figure is the conversation's running total (`cumulativeCost`) costs
 * its figure less the one it reported for the turn before; when an earlier turn reported none (it
 * was cut short) the difference is unknown, and the turn is priced from its own tokens when the
 * price table knows its model, else from the figure less what the earlier turns were recorded at.
 */
async function turnPrice(executor: Executor, input: { sessionId: string; turn: number; prices: PriceTable }, usage: TurnUsage, task: { model: string | null; agent: string } | undefined) {
  const reported = usage.costUsd;
  if (reported === undefined || input.turn <= 1 || !(agentAdapter(task?.agent as AgentKind) as AgentAdapter | undefined)?.cumulativeCost) return priceTurn(usage, task?.model, input.prices);
  const earlier = await executor
    .select({ turn: taskTurns.turn, reported: taskTurns.reportedCostUsd, cost: taskTurns.costUsd })
    .from(taskTurns)
    .where(and(eq(taskTurns.sessionId, input.sessionId), lt(taskTurns.turn, input.turn)))
    .orderBy(desc(taskTurns.turn));
  if (!earlier.length) return priceTurn(usage, task?.model, input.prices);
  const [last] = earlier;
  // A figure below the one before cannot be a running total (a fresh conversation, or a CLI that stopped adding up): it is the run's own.
  if (last!.reported !== null) return { costUsd: reported >= last!.reported ? reported - last!.reported : reported, source: "agent" as const };
  const { costUsd: _running, ...tokens } = usage;
  return priceTurn(tokens, task?.model, input.prices) ?? { costUsd: Math.max(0, reported - earlier.reduce((sum, t) => sum + (t.cost ?? 0), 0)), source: "agent" as const };
}

async function latestWithDiff(executor: Executor, taskId: string) {
  const rows = await executor.select().from(taskTurns).where(eq(taskTurns.taskId, taskId)).orderBy(desc(taskTurns.id)).limit(5);
  for (const row of rows) {
    const diff = TurnDiff.safeParse(row.diff);
    if (diff.success) return { row, diff: diff.data };
  }
  return undefined;
}

function summaryOf({ row, diff }: NonNullable<Awaited<ReturnType<typeof latestWithDiff>>>): TaskDiffSummary {
  return {
    turn: row.turn,
    base: diff.base,
    head: diff.head,
    files: diff.files,
    added: diff.files.reduce((sum, f) => sum + (f.added ?? 0), 0),
    removed: diff.files.reduce((sum, f) => sum + (f.removed ?? 0), 0),
    truncated: diff.truncated,
    recordedAt: row.createdAt.toISOString(),
  };
}

/** The newest turn's changes without the patch: what the task page lists. */
export async function taskDiffSummary(executor: Executor, taskId: string): Promise<TaskDiffSummary | null> {
  const found = await latestWithDiff(executor, taskId);
  return found ? summaryOf(found) : null;
}

/** The newest turn's whole diff, patch included. */
export async function taskDiff(executor: Executor, taskId: string): Promise<TaskDiffView | null> {
  const found = await latestWithDiff(executor, taskId);
  return found ? { ...summaryOf(found), patch: found.diff.patch } : null;
}
