/** Reads of an attempt's whole agent output: pages for the task page, every line for a download. */
import { and, asc, eq, sql } from "drizzle-orm";
import { queryRows, type Executor } from "@/db/client";
import { agentOutput } from "@/db/schema";
import type { OutputBatch } from "../contracts/api";

/** Which output rows are one attempt's: its session's, or (a task never retried) all of the task's. */
export type OutputScope = { taskId: string; sessionId?: string };

/**
 * The current attempt's scope, as the task detail reads it: a retried task's output is its current
 * session's, and before that session exists there is none (null).
 */
export function currentOutputScope(taskId: string, retried: boolean, sessionId: string | undefined): OutputScope | null {
  if (!retried) return { taskId };
  return sessionId ? { taskId, sessionId } : null;
}

const inScope = (scope: OutputScope) =>
  scope.sessionId ? and(eq(agentOutput.taskId, scope.taskId), eq(agentOutput.sessionId, scope.sessionId)) : eq(agentOutput.taskId, scope.taskId);

export async function countOutputBatches(db: Executor, scope: OutputScope): Promise<number> {
  const [row] = await db.select({ count: sql<number>`count(*)::int` }).from(agentOutput).where(inScope(scope));
  return row?.count ?? 0;
}

/** Batches read per page: a batch holds at most about 256 KiB, so a page reads at most a few MiB. */
const PAGE_ROWS = 16;
/** A page stops adding batches past this much text (it holds at least one). */
const PAGE_TEXT_CHARS = 2_000_000;

type PageRow = { batch_count: number; id: string | number | null; turn: number; offset: string | number; lines: string[] };

/**
 * The batches stored after `after` (in the order they were stored, by id), up to `limit` lines, and
 * how many batches the scope holds, read in one statement so the count and the page agree.
 */
export async function outputPage(db: Executor, scope: OutputScope, after: number, limit: number) {
  const session = scope.sessionId ? sql` and session_id = ${scope.sessionId}` : sql``;
  const rows = await queryRows<PageRow>(
    db,
    sql`select c.batch_count, o.id, o.turn, o."offset", o.lines
        from (select count(*)::int as batch_count from agent_output where task_id = ${scope.taskId}${session}) c
        left join lateral (
          select id, turn, "offset", lines from agent_output
          where task_id = ${scope.taskId}${session} and id > ${after}
          order by id limit ${PAGE_ROWS + 1}
        ) o on true`,
  );
  const batchCount = Number(rows[0]?.batch_count ?? 0);
  const found = rows.filter((row) => row.id !== null);
  const batches: OutputBatch[] = [];
  let lines = 0;
  let chars = 0;
  for (const row of found.slice(0, PAGE_ROWS)) {
    if (batches.length > 0 && (lines + row.lines.length > limit || chars >= PAGE_TEXT_CHARS)) break;
    batches.push({ id: Number(row.id), turn: row.turn, offset: Number(row.offset), lines: row.lines });
    lines += row.lines.length;
    chars += row.lines.reduce((sum, line) => sum + line.length, 0);
  }
  return { batches, batchCount, after: batches.at(-1)?.id ?? after, more: found.length > batches.length };
}

/** Every line of the scope in order (by turn, then where in the turn), a few batches at a time. */
export async function* outputLines(db: Executor, scope: OutputScope): AsyncGenerator<{ turn: number; lines: string[] }> {
  let from: { turn: number; offset: number; id: number } | undefined;
  for (;;) {
    const page = await db
      .select({ id: agentOutput.id, turn: agentOutput.turn, offset: agentOutput.offset, lines: agentOutput.lines })
      .from(agentOutput)
      .where(from ? and(inScope(scope), sql`(${agentOutput.turn}, ${agentOutput.offset}, ${agentOutput.id}) > (${from.turn}, ${from.offset}, ${from.id})`) : inScope(scope))
      .orderBy(asc(agentOutput.turn), asc(agentOutput.offset), asc(agentOutput.id))
      .limit(PAGE_ROWS);
    for (const row of page) yield { turn: row.turn, lines: row.lines };
    const last = page.at(-1);
    if (!last || page.length < PAGE_ROWS) return;
    from = { turn: last.turn, offset: last.offset, id: last.id };
  }
}
