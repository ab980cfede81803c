/**
 * The errors page's read: every recorded failure, recovery, stuck task, orphan and failed cleanup
 * of the user, newest first, with the task's title. An error belongs to whoever owns its task,
 * its node or its workspace's task; one that touched none of them (the system's own: an orphan
 * process, a failed pass) is shown to admins (in local mode, the one user is the admin).
 */
import { and, count, desc, eq, sql, type SQL } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { errors, tasks } from "@/db/schema";
import { ErrorKind, type ErrorList, type ErrorView } from "../contracts/api";
import { briefTitle } from "./titles";

/** The most rows the page shows. */
export const ERRORS_SHOWN = 200;

/** Who reads: their own errors, and the system's too when they run the control plane. */
export type Viewer = { userId: string; seesSystem: boolean };

function mine({ userId, seesSystem }: Viewer): SQL {
  const owner = sql`coalesce(
    (select t.user_id from tasks t where t.id = ${errors.taskId}),
    (select n.user_id from nodes n where n.id = ${errors.nodeId}),
    (select t.user_id from workspaces w join tasks t on t.id = w.task_id where w.id = ${errors.workspaceId})
  )`;
  return seesSystem ? sql`(${owner} = ${userId} or ${owner} is null)` : sql`${owner} = ${userId}`;
}

export async function listErrors(executor: Executor, viewer: Viewer, options: { kind?: ErrorKind; limit?: number } = {}): Promise<ErrorView[]> {
  const rows = await executor
    .select({ error: errors, prompt: tasks.prompt })
    .from(errors)
    .leftJoin(tasks, eq(tasks.id, errors.taskId))
    .where(and(mine(viewer), options.kind ? eq(errors.kind, options.kind) : undefined))
    .orderBy(desc(errors.createdAt), desc(errors.id))
    .limit(options.limit ?? ERRORS_SHOWN);
  return rows.map(({ error, prompt }) => ({
    id: error.id,
    kind: ErrorKind.safeParse(error.kind).data ?? "failure",
    taskId: error.taskId,
    nodeId: error.nodeId,
    workspaceId: error.workspaceId,
    step: error.step,
    message: error.message,
    createdAt: error.createdAt.toISOString(),
    taskTitle: prompt === null ? null : briefTitle(prompt),
  }));
}

/** How many errors of each kind the user has (every kind is present, 0 when none). */
export async function countErrors(executor: Executor, viewer: Viewer): Promise<ErrorList["counts"]> {
  const rows = await executor.select({ kind: errors.kind, n: count() }).from(errors).where(mine(viewer)).groupBy(errors.kind);
  const counts = Object.fromEntries(ErrorKind.options.map((k) => [k, 0])) as ErrorList["counts"];
  for (const row of rows) {
    const kind = ErrorKind.safeParse(row.kind);
    if (kind.success) counts[kind.data] += Number(row.n);
  }
  return counts;
}

/** The page's whole answer: the newest errors (of `kind` when given) and the counts per kind. */
export async function errorList(executor: Executor, viewer: Viewer, kind?: ErrorKind): Promise<ErrorList> {
  const [list, counts] = await Promise.all([listErrors(executor, viewer, { kind }), countErrors(executor, viewer)]);
  return { errors: list, counts };
}
