/** Reads of an attempt's whole agent output: pages for the task page, every line for a download. */
import { config } from "../config";
import { and, eq, sql, type SQL } from "drizzle-orm";
import { queryRows, type Executor } from "@/db/client";
import { agentOutput, tasks } from "@/db/schema";
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

/** What TASK_OUTPUT_MAX_BYTES removed from the task's output, oldest first; null when nothing was. */
export async function droppedOutput(db: Executor, taskId: string): Promise<{ lines: number; bytes: number } | null> {
  const [row] = await db.select({ lines: tasks.outputDroppedLines, bytes: tasks.outputDroppedBytes }).from(tasks).where(eq(tasks.id, taskId));
  return row && row.bytes > 0 ? { lines: Number(row.lines), bytes: Number(row.bytes) } : null;
}

/** The line a download has in place of the output that was removed. */
export const droppedNotice = (dropped: { lines: number; bytes: number }) =>
  `[${dropped.lines} earlier line${dropped.lines === 1 ? "" : "s"} (${dropped.bytes} bytes) of this task's output were removed: it passed TASK_OUTPUT_MAX_BYTES]`;

/** Batches read per page: a batch holds at most about 256 KiB, so a page reads at most a few MiB. */
const PAGE_ROWS = 16;
/**
 * A page, and each read of a download, stops adding batches past this many bytes of their stored
 * text, counted in the query (a batch may be as large as a callback body): it holds at least one.
 */
export const outputPageMaxBytes = () => config().OUTPUT_PAGE_MAX_BYTES;

type PageRow = { batch_count: number; id: string | number | null; turn: number; offset: string | number; lines: string[] | null };

/** The rows of `from` in `order`, at most `rows` of them, with `lines` only while the bytes before each stay under the cap. */
const capped = (from: SQL, order: SQL, rows: number) =>
  sql`select id, turn, "offset", case when running - bytes < ${outputPageMaxBytes()} then lines end as lines from (
        select id, turn, "offset", lines, bytes, sum(bytes) over (order by ${order}) as running
        from agent_output where ${from} order by ${order} limit ${rows}
      ) w order by ${order}`;

/**
 * The batches stored after `after` (in the order they were stored, by id), up to `limit` lines and
 * OUTPUT_PAGE_MAX_BYTES, and how many batches the scope holds, read in one statement so the count
 * and the page agree.
 */
export async function outputPage(db: Executor, scope: OutputScope, after: number, limit: number) {
  const session = scope.sessionId ? sql` and session_id = ${scope.sessionId}` : sql``;
  const rows = await queryRows<PageRow>(
    db,
    sql`select c.batch_count, o.id, o.turn, o."offset", o.lines
        from (select count(*)::int as batch_count from agent_output where task_id = ${scope.taskId}${session}) c
        left join lateral (${capped(sql`task_id = ${scope.taskId}${session} and id > ${after}`, sql`id`, PAGE_ROWS + 1)}) o on true
        order by o.id`,
  );
  const batchCount = Number(rows[0]?.batch_count ?? 0);
  const found = rows.filter((row) => row.id !== null);
  const batches: OutputBatch[] = [];
  let lines = 0;
  for (const row of found.slice(0, PAGE_ROWS)) {
    if (row.lines === null) break;
    if (batches.length > 0 && lines + row.lines.length > limit) break;
    batches.push({ id: Number(row.id), turn: row.turn, offset: Number(row.offset), lines: row.lines });
    lines += row.lines.length;
  }
  return { batches, batchCount, after: batches.at(-1)?.id ?? after, more: found.length > batches.length };
}

/** Every line of the scope in order (by turn, then where in the turn), a few batches (at most OUTPUT_PAGE_MAX_BYTES) at a time. */
export async function* outputLines(db: Executor, scope: OutputScope): AsyncGenerator<{ turn: number; lines: string[] }> {
  const session = scope.sessionId ? sql` and session_id = ${scope.sessionId}` : sql``;
  const order = sql`turn, "offset", id`;
  let from: { turn: number; offset: number; id: number } | undefined;
  for (;;) {
    const after = from ? sql` and (turn, "offset", id) > (${from.turn}, ${from.offset}, ${from.id})` : sql``;
    const page = await queryRows<Omit<PageRow, "batch_count">>(db, capped(sql`task_id = ${scope.taskId}${session}${after}`, order, PAGE_ROWS));
    let yielded = 0;
    for (const row of page) {
      if (row.lines === null) break;
      yield { turn: row.turn, lines: row.lines };
      from = { turn: row.turn, offset: Number(row.offset), id: Number(row.id) };
      yielded++;
    }
    if (yielded === 0 || (yielded === page.length && page.length < PAGE_ROWS)) return;
  }
}
