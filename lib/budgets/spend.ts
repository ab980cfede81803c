/**
 * What has been spent, for budgets: recorded turns at their recorded cost (task_turns), plus the
 * turns still running at what their streamed responses cost so far (turn_spend; a turn that ended
 * is counted once, by its record). Per task, and per person since the start of the day or month
 * (UTC).
 */
import { and, eq, sql, type SQL } from "drizzle-orm";
import { queryRows, type Executor } from "@/db/client";
import { turnSpend } from "@/db/schema";
import { agentAdapter, type AgentKind } from "../contracts/agents";
import type { TurnUsage } from "../contracts/usage";
import { priceTurn, type PriceTable } from "../usage/pricing";

/**
 * Keeps the cost of each model response in a batch of a running turn's output (a response seen
 * before keeps its highest figure). Answers whether the turn's spend grew.
 */
export async function recordMessageSpend(
  tx: Executor,
  input: { sessionId: string; taskId: string; userId: string; agent: string; model: string | null; turn: number; lines: readonly string[]; prices: PriceTable },
): Promise<boolean> {
  const output = agentAdapter(input.agent as AgentKind)?.output;
  if (!output) return false;
  const responses = new Map<string, TurnUsage & { costUsd: number }>();
  for (const line of input.lines) {
    const message = output.messageUsage(line);
    const priced = message && priceTurn(message.usage, message.model ?? input.model, input.prices);
    if (message && priced && priced.costUsd >= (responses.get(message.id)?.costUsd ?? 0)) responses.set(message.id, { ...message.usage, costUsd: priced.costUsd });
  }
  if (!responses.size) return false;
  const grown = await tx
    .insert(turnSpend)
    .values([...responses].map(([messageId, spent]) => ({ sessionId: input.sessionId, taskId: input.taskId, userId: input.userId, turn: input.turn, messageId, ...spent })))
    .onConflictDoUpdate({
      target: [turnSpend.sessionId, turnSpend.turn, turnSpend.messageId],
      set: {
        costUsd: sql`excluded.cost_usd`,
        inputTokens: sql`excluded.input_tokens`,
        outputTokens: sql`excluded.output_tokens`,
        cacheReadTokens: sql`excluded.cache_read_tokens`,
        cacheWriteTokens: sql`excluded.cache_write_tokens`,
      },
      setWhere: sql`excluded.cost_usd > ${turnSpend.costUsd}`,
    })
    .returning({ messageId: turnSpend.messageId });
  return grown.length > 0;
}

/** A turn's usage so far from its streamed responses, priced; undefined when none reported usage. */
export async function streamedTurnUsage(executor: Executor, sessionId: string, turn: number): Promise<(TurnUsage & { costUsd: number }) | undefined> {
  const [row] = await executor
    .select({
      responses: sql<number>`count(*)::int`,
      inputTokens: sql<number>`coalesce(sum(${turnSpend.inputTokens}), 0)::float8`,
      outputTokens: sql<number>`coalesce(sum(${turnSpend.outputTokens}), 0)::float8`,
      cacheReadTokens: sql<number>`coalesce(sum(${turnSpend.cacheReadTokens}), 0)::float8`,
      cacheWriteTokens: sql<number>`coalesce(sum(${turnSpend.cacheWriteTokens}), 0)::float8`,
      costUsd: sql<number>`coalesce(sum(${turnSpend.costUsd}), 0)::float8`,
    })
    .from(turnSpend)
    .where(and(eq(turnSpend.sessionId, sessionId), eq(turnSpend.turn, turn)));
  if (!row?.responses) return undefined;
  const { responses: _responses, ...usage } = row;
  return usage;
}

/** Recorded turns plus running ones (their streamed spend), over the tasks `where` picks (`t` is tasks, `tt` task_turns, `ts` turn_spend). */
async function spent(executor: Executor, taskWhere: SQL, since?: Date): Promise<number> {
  const recordedSince = since ? sql`and tt.created_at >= ${since.toISOString()}` : sql``;
  const streamedSince = since ? sql`and ts.created_at >= ${since.toISOString()}` : sql``;
  const [row] = await queryRows<{ spent: number | string | null }>(
    executor,
    sql`select (
          coalesce((select sum(tt.cost_usd) from task_turns tt join tasks t on t.id = tt.task_id where ${taskWhere} ${recordedSince}), 0)
        + coalesce((select sum(ts.cost_usd) from turn_spend ts join tasks t on t.id = ts.task_id where ${taskWhere} ${streamedSince}
            and not exists (select 1 from task_turns tt where tt.session_id = ts.session_id and tt.turn = ts.turn)), 0)
        )::float8 as spent`,
  );
  return Number(row?.spent ?? 0);
}

export const taskSpend = (executor: Executor, taskId: string) => spent(executor, sql`t.id = ${taskId}`);

export const startOfDay = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
export const startOfMonth = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));

/** What the person spent since the start of today and of this month (UTC). */
export async function personSpend(executor: Executor, userId: string, now = new Date()): Promise<{ day: number; month: number }> {
  const [day, month] = await Promise.all([spent(executor, sql`t.user_id = ${userId}`, startOfDay(now)), spent(executor, sql`t.user_id = ${userId}`, startOfMonth(now))]);
  return { day, month };
}
