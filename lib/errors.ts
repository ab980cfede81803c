import type { Executor } from "@/db/client";
import { errors } from "@/db/schema";
import { publishErrorRecorded } from "./live/publish";

/** failure: permanent; recovery: something was re-driven or restarted; stuck, orphan; cleanup: a cleanup failed and is retried. */
export type ErrorKind = "failure" | "recovery" | "stuck" | "orphan" | "cleanup";

/** Records a permanent failure with everything it touched, for operators and the task page. */
export async function recordError(
  executor: Executor,
  entry: { taskId?: string | null; nodeId?: string | null; workspaceId?: string | null; step?: string | null; message: string; details?: unknown; kind?: ErrorKind },
) {
  await executor.insert(errors).values({
    kind: entry.kind ?? "failure",
    taskId: entry.taskId ?? null,
    nodeId: entry.nodeId ?? null,
    workspaceId: entry.workspaceId ?? null,
    step: entry.step ?? null,
    message: entry.message,
    details: entry.details ?? null,
  });
  await publishErrorRecorded(executor);
}
