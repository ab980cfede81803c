/**
 * Retrying a failed or cancelled task: its attempt is kept (status, error, commit, timeline, agent
 * session: task_attempts), then the task moves failed/cancelled → ready → queued and a run of the
 * next generation starts. The branch stays the task's: the node continues it where the last
 * attempt pushed it (vm-agent/git.ts createBranch).
 */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { agentSessions, taskAttempts, tasks, taskSteps } from "@/db/schema";
import type { RetryTaskResponse } from "../contracts/api";
import { publishTaskChange } from "../live/publish";
import type { StartRun } from "./create-task";
import { transitionTask } from "./state-machine";
import { RETRYABLE_TASK_STATUSES, type TaskStatus } from "../contracts/statuses";
import type { Config } from "../config";
import { admitSubmission } from "./user-limits";
import { log } from "../log";

export type RetryResult = ({ outcome: "queued" } & RetryTaskResponse) | { outcome: "not_found" } | { outcome: "not_retryable"; status: TaskStatus };

/** Retries `ownerId`'s task; another person's task is not found. */
export async function retryTask(deps: { db: Db; startRun: StartRun; config: Config }, ownerId: string, taskId: string): Promise<RetryResult> {
  const result = await deps.db.transaction(async (tx) => {
    const [task] = await tx.select().from(tasks).where(and(eq(tasks.id, taskId), eq(tasks.userId, ownerId))).for("update");
    if (!task) return { outcome: "not_found" as const };
    if (!RETRYABLE_TASK_STATUSES.includes(task.status)) return { outcome: "not_retryable" as const, status: task.status };
    // A retry is a submission, and makes the task unfinished again: the same limits as a new task.
    if (deps.config.AUTH_MODE === "team") await admitSubmission(tx, deps.config, ownerId, taskId);
    const steps = await tx.select().from(taskSteps).where(eq(taskSteps.taskId, taskId)).orderBy(asc(taskSteps.id));
    const [session] = task.workspaceId ? await tx.select({ id: agentSessions.id }).from(agentSessions).where(eq(agentSessions.workspaceId, task.workspaceId)).limit(1) : [];
    await tx.insert(taskAttempts).values({
      taskId,
      generation: task.runGeneration,
      status: task.status,
      errorMessage: task.errorMessage,
      commitSha: task.commitSha,
      pushed: task.pushed,
      steps: steps.map((s) => ({ step: s.step, status: s.status, detail: s.detail, startedAt: s.startedAt.toISOString(), endedAt: s.endedAt?.toISOString() ?? null })),
      sessionId: session?.id ?? null,
      startedAt: task.startedAt,
      endedAt: task.completedAt,
    });
    await tx.delete(taskSteps).where(eq(taskSteps.taskId, taskId));
    await transitionTask(tx, { taskId, to: "ready", actor: "user", reason: "retry", from: RETRYABLE_TASK_STATUSES });
    await transitionTask(tx, { taskId, to: "queued", actor: "user", reason: "retry", from: ["ready"] });
    const generation = task.runGeneration + 1;
    await tx
      .update(tasks)
      .set({ runGeneration: generation, runId: null, runEventId: null, runDispatchedAt: sql`now()`, redriveCount: 0, cleanedUpAt: null, idleUntil: null, finishRequestedAt: null, updatedAt: sql`now()` })
      .where(eq(tasks.id, taskId));
    const [{ attempts } = { attempts: 0 }] = await tx.select({ attempts: sql<number>`count(*)::int` }).from(taskAttempts).where(eq(taskAttempts.taskId, taskId));
    await publishTaskChange(tx, taskId, "status");
    return { outcome: "queued" as const, generation, userId: task.userId, attempt: attempts + 1 };
  });
  if (result.outcome !== "queued") return result;
  try {
    await deps.startRun({ taskId, userId: result.userId, generation: result.generation });
  } catch (error) {
    // Queued with no run yet: the reconciler starts it once the engine answers.
    log.warn("retry accepted; its run starts when the engine answers", { taskId, error: String(error) });
  }
  return { outcome: "queued", taskId, status: "queued", attempt: result.attempt };
}
