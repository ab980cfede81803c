import { and, eq } from "drizzle-orm";
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

/** Records an entry unless one of the same kind and message stands already (an orphan seen at every pass is reported once). */
export async function recordErrorOnce(executor: Executor, entry: Parameters<typeof recordError>[1] & { kind: ErrorKind }): Promise<boolean> {
  const [seen] = await executor.select({ id: errors.id }).from(errors).where(and(eq(errors.kind, entry.kind), eq(errors.message, entry.message))).limit(1);
  if (seen) return false;
  await recordError(executor, entry);
  return true;
}
