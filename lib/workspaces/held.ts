/** Which workspace holds a task's unpushed work (the reads and the hold; the decisions are in held-work.ts). */
import { and, eq, isNotNull, isNull, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { tasks, workspaces } from "@/db/schema";
import type { HeldWorkView } from "../contracts/api";

export async function holdWorkspace(db: Executor, workspaceId: string) {
  await db.update(workspaces).set({ heldAt: sql`coalesce(${workspaces.heldAt}, now())`, updatedAt: sql`now()` }).where(eq(workspaces.id, workspaceId));
}

export async function heldWorkspace(db: Executor, taskId: string) {
  const [row] = await db
    .select({ id: workspaces.id, nodeId: workspaces.nodeId, heldAt: workspaces.heldAt, pushError: tasks.pushError, userId: tasks.userId })
    .from(workspaces)
    .innerJoin(tasks, eq(tasks.id, workspaces.taskId))
    .where(and(eq(workspaces.taskId, taskId), isNotNull(workspaces.heldAt), isNull(workspaces.purgedAt)));
  return row;
}

/** What the task page shows: the held work, where it is, and why its push was refused. */
export async function heldWorkView(db: Executor, taskId: string): Promise<HeldWorkView | null> {
  const held = await heldWorkspace(db, taskId);
  return held ? { workspaceId: held.id, nodeId: held.nodeId, since: held.heldAt!.toISOString(), error: held.pushError } : null;
}

