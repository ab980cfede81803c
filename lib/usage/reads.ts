/**
 * What tasks used, read from their recorded turns (task_turns, priced when recorded) and their
 * workspaces' time on nodes: per turn and per task for the task page, per task for the list, per
 * person per day for the usage page and `GET /api/usage`.
 */
import { and, asc, eq, gte, inArray, isNotNull, lt, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { tasks, taskTurns, users, workspaces } from "@/db/schema";
import type { TaskUsageSummary, TaskUsageView, UsageDay, UsageReport } from "../contracts/api";
import { addTotals, addTurn, NO_USAGE, type TurnUsage, type UsageTotals } from "../contracts/usage";

type TurnRow = Pick<typeof taskTurns.$inferSelect, "inputTokens" | "outputTokens" | "cacheReadTokens" | "cacheWriteTokens" | "costUsd">;

/** A recorded turn's figures; undefined for a turn whose agent reported none. */
function turnUsage(row: TurnRow): TurnUsage | undefined {
  if (row.inputTokens === null || row.outputTokens === null) return undefined;
  return {
    inputTokens: row.inputTokens,
    outputTokens: row.outputTokens,
    cacheReadTokens: row.cacheReadTokens ?? 0,
    cacheWriteTokens: row.cacheWriteTokens ?? 0,
    ...(row.costUsd === null ? {} : { costUsd: row.costUsd }),
  };
}

/** How long a task's workspaces held a node, in milliseconds: each from its creation to its end (to now while it lives). */
const nodeMsOf = sql<number>`coalesce(sum(extract(epoch from (coalesce(${workspaces.endedAt}, now()) - ${workspaces.createdAt})) * 1000), 0)::float8`;

/** Every turn the task's agents reported, in the order they ended, and the task's totals. */
export async function taskUsage(executor: Executor, taskId: string): Promise<TaskUsageView> {
  const [turns, [node]] = await Promise.all([
    executor.select().from(taskTurns).where(eq(taskTurns.taskId, taskId)).orderBy(asc(taskTurns.id)),
    executor
      .select({ nodeMs: nodeMsOf, live: sql<number>`count(*) filter (where ${workspaces.endedAt} is null)::int` })
      .from(workspaces)
      .where(eq(workspaces.taskId, taskId)),
  ]);
  let total: UsageTotals = NO_USAGE;
  const sessions: string[] = [];
  const views: TaskUsageView["turns"] = [];
  for (const row of turns) {
    if (!sessions.includes(row.sessionId)) sessions.push(row.sessionId);
    const usage = turnUsage(row);
    if (!usage) continue;
    total = addTurn(total, usage);
    views.push({ attempt: sessions.indexOf(row.sessionId) + 1, turn: row.turn, ...usage, costUsd: row.costUsd, costSource: row.costSource, endedAt: row.createdAt.toISOString(), summary: row.summary });
  }
  return { turns: views, total, nodeMs: Math.round(node?.nodeMs ?? 0), onNode: (node?.live ?? 0) > 0 };
}

/** Each listed task's cost and tokens (tasks whose agents reported nothing are absent). */
export async function usageOfTasks(executor: Executor, taskIds: string[]): Promise<Map<string, TaskUsageSummary>> {
  if (taskIds.length === 0) return new Map();
  const rows = await executor
    .select({
      taskId: taskTurns.taskId,
      costUsd: sql<number>`coalesce(sum(${taskTurns.costUsd}), 0)::float8`,
      tokens: sql<number>`coalesce(sum(${taskTurns.inputTokens} + ${taskTurns.outputTokens} + coalesce(${taskTurns.cacheReadTokens}, 0) + coalesce(${taskTurns.cacheWriteTokens}, 0)), 0)::float8`,
      unpricedTurns: sql<number>`count(*) filter (where ${taskTurns.costUsd} is null)::int`,
    })
    .from(taskTurns)
    .where(and(inArray(taskTurns.taskId, taskIds), isNotNull(taskTurns.inputTokens)))
    .groupBy(taskTurns.taskId);
  return new Map(rows.map((row) => [row.taskId, { costUsd: row.costUsd, tokens: row.tokens, unpricedTurns: row.unpricedTurns }]));
}

/** The UTC day a timestamp falls on, as `YYYY-MM-DD`. */
const dayOf = (column: typeof taskTurns.createdAt | typeof workspaces.createdAt) => sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD')`;

/**
 * Usage per person per UTC day over `days` days up to today: turns by the day they ended, node
 * time by the day its workspace was made. `userIds`: whose (undefined: everyone's, for an admin).
 */
export async function usageByDay(executor: Executor, input: { userIds?: string[]; days: number; now?: Date }): Promise<UsageReport> {
  const now = input.now ?? new Date();
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
  const from = new Date(to.getTime() - input.days * 86_400_000);
  const whose = input.userIds ? inArray(tasks.userId, input.userIds) : undefined;
  const turnDay = dayOf(taskTurns.createdAt);
  const workspaceDay = dayOf(workspaces.createdAt);
  const [turnRows, nodeRows] = await Promise.all([
    executor
      .select({
        day: turnDay,
        userId: tasks.userId,
        inputTokens: sql<number>`coalesce(sum(${taskTurns.inputTokens}), 0)::float8`,
        outputTokens: sql<number>`coalesce(sum(${taskTurns.outputTokens}), 0)::float8`,
        cacheReadTokens: sql<number>`coalesce(sum(${taskTurns.cacheReadTokens}), 0)::float8`,
        cacheWriteTokens: sql<number>`coalesce(sum(${taskTurns.cacheWriteTokens}), 0)::float8`,
        costUsd: sql<number>`coalesce(sum(${taskTurns.costUsd}), 0)::float8`,
        turns: sql<number>`count(*)::int`,
        unpricedTurns: sql<number>`count(*) filter (where ${taskTurns.costUsd} is null)::int`,
        tasks: sql<number>`count(distinct ${taskTurns.taskId})::int`,
      })
      .from(taskTurns)
      .innerJoin(tasks, eq(tasks.id, taskTurns.taskId))
      .where(and(isNotNull(taskTurns.inputTokens), gte(taskTurns.createdAt, from), lt(taskTurns.createdAt, to), whose))
      .groupBy(turnDay, tasks.userId),
    executor
      .select({ day: workspaceDay, userId: tasks.userId, nodeMs: nodeMsOf })
      .from(workspaces)
      .innerJoin(tasks, eq(tasks.id, workspaces.taskId))
      .where(and(gte(workspaces.createdAt, from), lt(workspaces.createdAt, to), whose))
      .groupBy(workspaceDay, tasks.userId),
  ]);
  const byKey = new Map<string, UsageDay>();
  const entry = (day: string, userId: string) => {
    const key = `${day} ${userId}`;
    let found = byKey.get(key);
    if (!found) byKey.set(key, (found = { day, userId, ...NO_USAGE, tasks: 0, nodeMs: 0 }));
    return found;
  };
  for (const row of turnRows) Object.assign(entry(row.day, row.userId), { ...row });
  for (const row of nodeRows) entry(row.day, row.userId).nodeMs = Math.round(row.nodeMs);
  const days = [...byKey.values()].sort((a, b) => a.day.localeCompare(b.day) || a.userId.localeCompare(b.userId));
  const ids = [...new Set(days.map((d) => d.userId))];
  const people = ids.length ? await executor.select({ id: users.id, name: users.name, email: users.email }).from(users).where(inArray(users.id, ids)) : [];
  const total = days.reduce((sum, d) => ({ ...addTotals(sum, d), nodeMs: sum.nodeMs + d.nodeMs }), { ...NO_USAGE, nodeMs: 0 });
  return { from: from.toISOString().slice(0, 10), to: new Date(to.getTime() - 86_400_000).toISOString().slice(0, 10), days, people, total };
}
