/**
 * Per-person limits on submitting tasks: how many may be unfinished at once, and how many may be
 * submitted per minute. Counted from the tasks table, so every app instance sees the same numbers.
 */
import { and, count, eq, gt, min, notInArray } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { tasks } from "@/db/schema";
import type { Config } from "../config";
import { TERMINAL_STATUSES } from "./state-machine";

const WINDOW_MS = 60_000;

export class SubmissionLimitError extends Error {
  override readonly name = "SubmissionLimitError";
  constructor(
    message: string,
    /** When asking again can succeed. */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

type Limits = Pick<Config, "MAX_ACTIVE_TASKS_PER_USER" | "MAX_TASK_SUBMISSIONS_PER_MINUTE">;

/** Throws SubmissionLimitError when `userId` may not submit another task now. */
export async function checkSubmissionLimits(executor: Executor, limits: Limits, userId: string, now = Date.now()) {
  const since = new Date(now - WINDOW_MS);
  const [recent] = await executor
    .select({ n: count(), oldest: min(tasks.createdAt) })
    .from(tasks)
    .where(and(eq(tasks.userId, userId), gt(tasks.createdAt, since)));
  if (recent && recent.n >= limits.MAX_TASK_SUBMISSIONS_PER_MINUTE) {
    const frees = recent.oldest ? recent.oldest.getTime() + WINDOW_MS - now : WINDOW_MS;
    throw new SubmissionLimitError(
      `at most ${limits.MAX_TASK_SUBMISSIONS_PER_MINUTE} tasks may be submitted per minute (MAX_TASK_SUBMISSIONS_PER_MINUTE)`,
      Math.max(1, Math.ceil(frees / 1000)),
    );
  }
  const [active] = await executor
    .select({ n: count() })
    .from(tasks)
    .where(and(eq(tasks.userId, userId), notInArray(tasks.status, [...TERMINAL_STATUSES])));
  if (active && active.n >= limits.MAX_ACTIVE_TASKS_PER_USER) {
    throw new SubmissionLimitError(`${active.n} of your tasks are unfinished, the most allowed at once (MAX_ACTIVE_TASKS_PER_USER); cancel one or wait for one to end`, 30);
  }
}
