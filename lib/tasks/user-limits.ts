/**
 * Per-person limits in team mode: unfinished tasks at once (MAX_ACTIVE_TASKS_PER_USER), tasks
 * submitted a minute (MAX_TASK_SUBMISSIONS_PER_MINUTE; a retry is a submission too) and follow-ups
 * a minute (MAX_FOLLOWUPS_PER_MINUTE). Each is checked in the transaction that makes the task, the
 * retry or the message, under the person's advisory lock, and the act is recorded there
 * (user_actions): two requests at once are counted one after the other, so together they never
 * pass a limit, whichever app instance answers them.
 */
import { sql } from "drizzle-orm";
import { inList, queryRows, type Executor } from "@/db/client";
import { userActions } from "@/db/schema";
import type { Config } from "../config";
import { TERMINAL_TASK_STATUSES } from "../contracts/statuses";

const WINDOW_SECONDS = 60;

export class UserLimitError extends Error {
  override readonly name = "UserLimitError";
  constructor(
    message: string,
    /** When asking again can succeed. */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export type UserLimits = Pick<Config, "MAX_ACTIVE_TASKS_PER_USER" | "MAX_TASK_SUBMISSIONS_PER_MINUTE" | "MAX_FOLLOWUPS_PER_MINUTE">;
type ActionKind = "submission" | "followup";

/** Serialises one person's limited acts until the transaction ends (a transaction-scoped advisory lock). */
export async function lockUserLimits(executor: Executor, userId: string) {
  await executor.execute(sql`select pg_advisory_xact_lock(hashtext(${`user-limits:${userId}`}))`);
}

/** Throws UserLimitError when `userId` already did `limit` acts of `kind` in the last minute. */
async function checkRate(executor: Executor, userId: string, kind: ActionKind, limit: number, what: string) {
  const [row] = await queryRows<{ n: number; wait: number | null }>(
    executor,
    sql`select count(*)::int as n, ceil(extract(epoch from min(created_at) + make_interval(secs => ${WINDOW_SECONDS}) - now()))::int as wait
        from user_actions where user_id = ${userId} and kind = ${kind} and created_at > now() - make_interval(secs => ${WINDOW_SECONDS})`,
  );
  if (row && row.n >= limit) throw new UserLimitError(what, Math.min(WINDOW_SECONDS, Math.max(1, row.wait ?? WINDOW_SECONDS)));
}

/**
 * Inside the transaction that makes a task queued (a submission or a retry): takes the person's
 * lock, refuses past either task limit, and records the submission. The retried task itself is
 * ended while this runs, so it is not among the unfinished ones it counts.
 */
export async function admitSubmission(executor: Executor, limits: Pick<UserLimits, "MAX_ACTIVE_TASKS_PER_USER" | "MAX_TASK_SUBMISSIONS_PER_MINUTE">, userId: string, taskId: string) {
  await lockUserLimits(executor, userId);
  await checkRate(
    executor,
    userId,
    "submission",
    limits.MAX_TASK_SUBMISSIONS_PER_MINUTE,
    `at most ${limits.MAX_TASK_SUBMISSIONS_PER_MINUTE} tasks may be submitted or retried per minute (MAX_TASK_SUBMISSIONS_PER_MINUTE)`,
  );
  const [active] = await queryRows<{ n: number }>(
    executor,
    sql`select count(*)::int as n from tasks where user_id = ${userId} and status not in (${inList(TERMINAL_TASK_STATUSES)})`,
  );
  if (active && active.n >= limits.MAX_ACTIVE_TASKS_PER_USER) {
    throw new UserLimitError(`${active.n} of your tasks are unfinished, the most allowed at once (MAX_ACTIVE_TASKS_PER_USER); cancel one or wait for one to end`, 30);
  }
  await executor.insert(userActions).values({ userId, kind: "submission", taskId });
}

/** Inside the transaction that stores a follow-up: takes the person's lock, refuses past the rate, records it. */
export async function admitFollowup(executor: Executor, limits: Pick<UserLimits, "MAX_FOLLOWUPS_PER_MINUTE">, userId: string, taskId: string) {
  await lockUserLimits(executor, userId);
  await checkRate(executor, userId, "followup", limits.MAX_FOLLOWUPS_PER_MINUTE, `at most ${limits.MAX_FOLLOWUPS_PER_MINUTE} follow-ups may be sent per minute (MAX_FOLLOWUPS_PER_MINUTE)`);
  await executor.insert(userActions).values({ userId, kind: "followup", taskId });
}
