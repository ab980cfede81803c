import { eq, max } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { liveEvents } from "@/db/schema";

/** The newest live event id, for one task or for all. */
export async function latestLiveEventId(executor: Executor, taskId?: string): Promise<number> {
  const query = executor.select({ id: max(liveEvents.id) }).from(liveEvents);
  const [row] = await (taskId ? query.where(eq(liveEvents.taskId, taskId)) : query);
  return Number(row?.id ?? 0);
}
