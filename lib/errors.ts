import type { Executor } from "@/db/client";
import { errors } from "@/db/schema";

/** Records a permanent failure with everything it touched, for operators and the task page. */
export async function recordError(
  executor: Executor,
  entry: { taskId?: string | null; nodeId?: string | null; workspaceId?: string | null; step?: string | null; message: string; details?: unknown },
) {
  await executor.insert(errors).values({
    taskId: entry.taskId ?? null,
    nodeId: entry.nodeId ?? null,
    workspaceId: entry.workspaceId ?? null,
    step: entry.step ?? null,
    message: entry.message,
    details: entry.details ?? null,
  });
}
