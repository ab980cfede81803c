/** Cancelling a task: the status first, then `task/cancelled` stops its run and cleans up. */
import { inngest } from "@/inngest/client";
import { taskCancelled } from "@/inngest/events";
import type { Db } from "@/db/client";
import { TaskStatus } from "../contracts/api";
import { TERMINAL_STATUSES, transitionTask } from "./state-machine";
import { failRunningSteps } from "./timeline";

const ACTIVE_STATUSES = TaskStatus.options.filter((s) => !TERMINAL_STATUSES.includes(s));

export type CancelResult = { outcome: "cancelled" } | { outcome: "not_found" } | { outcome: "terminal"; status: TaskStatus };

export async function cancelTask(db: Db, taskId: string, reason = "cancelled by the user"): Promise<CancelResult> {
  const result = await db.transaction(async (tx) => {
    const moved = await transitionTask(tx, { taskId, to: "cancelled", actor: "user", reason, from: ACTIVE_STATUSES });
    if (moved.outcome === "moved") await failRunningSteps(tx, taskId, "skipped", "cancelled");
    return moved;
  });
  if (result.outcome === "not_found") return result;
  if (result.outcome !== "moved") return { outcome: "terminal", status: result.status };
  await inngest.send(taskCancelled.create({ taskId, reason }));
  return { outcome: "cancelled" };
}
