/** Cancelling a task: the status first, then a wake; its run sees the cancel and cleans up. */
import { and, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { tasks } from "@/db/schema";
import { TaskStatus } from "../contracts/api";
import { TERMINAL_TASK_STATUSES } from "../contracts/statuses";
import { transitionTask } from "./state-machine";
import { failRunningSteps } from "./timeline";
import { taskCancelled } from "../contracts/events";
import { wakeRuns, type WakeDeps } from "./wake-run";

const ACTIVE_STATUSES = TaskStatus.options.filter((s) => !TERMINAL_TASK_STATUSES.includes(s));

export type CancelResult = { outcome: "cancelled" } | { outcome: "not_found" } | { outcome: "terminal"; status: TaskStatus };

/** Cancels `ownerId`'s task; another person's task is not found. */
export async function cancelTask(deps: WakeDeps & { db: Db }, ownerId: string, taskId: string, reason = "cancelled by the user"): Promise<CancelResult> {
  const [owned] = await deps.db.select({ id: tasks.id }).from(tasks).where(and(eq(tasks.id, taskId), eq(tasks.userId, ownerId)));
  if (!owned) return { outcome: "not_found" };
  const result = await deps.db.transaction(async (tx) => {
    const moved = await transitionTask(tx, { taskId, to: "cancelled", actor: "user", reason, from: ACTIVE_STATUSES });
    if (moved.outcome === "moved") await failRunningSteps(tx, taskId, "skipped", "cancelled");
    return moved;
  });
  if (result.outcome === "not_found") return result;
  if (result.outcome !== "moved") return { outcome: "terminal", status: result.status };
  // A run that is gone is cleaned up by the safety net.
  await wakeRuns(deps, [taskCancelled.create({ taskId })], "log");
  return { outcome: "cancelled" };
}
