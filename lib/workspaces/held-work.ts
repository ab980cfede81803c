/**
 * Work that could not be pushed is never lost behind the person's back: when a task ends with a
 * commit whose push was refused, its stopped workspace is held on its node (no retention deletes
 * it, its node is not destroyed: it takes a slot) until the person decides. "Push again" asks the
 * node to push it (rebased if the branch moved, never forced) and then lets it go as pushed work;
 * "Discard" deletes it.
 */
import { eq, sql } from "drizzle-orm";
import { tasks, workspaces } from "@/db/schema";
import type { PushAgainResult } from "../contracts/api";
import { syncPullRequest } from "../forge/pull-requests";
import { publishTaskChange } from "../live/publish";
import { getNode } from "../nodes/lifecycle";
import { settleNode, wakeQueued } from "../nodes/pool";
import { clientForNode } from "../nodes/vm-agent-client";
import { purgeWorkspace } from "../retention/sweep";
import type { Runtime } from "../runtime";
import { heldWorkspace } from "./held";

export class NothingHeldError extends Error {
  override readonly name = "NothingHeldError";
}

/** Lets a held workspace go: deleted from its node (`force` for discarded work), its slot freed. */
async function release(rt: Runtime, held: { id: string; nodeId: string; userId: string }, taskId: string, force: boolean) {
  await rt.db.update(workspaces).set({ heldAt: null, updatedAt: sql`now()` }).where(eq(workspaces.id, held.id));
  await purgeWorkspace(rt, held, force);
  await settleNode(rt, held.nodeId, rt.config.NODE_WARM_TIMEOUT);
  await wakeQueued(rt, held.userId);
  await publishTaskChange(rt.db, taskId, "workspace");
}

/** Undefined: not the owner's task. NothingHeldError: it holds no work. */
async function ownedHeld(rt: Runtime, ownerId: string, taskId: string) {
  const [task] = await rt.db.select({ userId: tasks.userId }).from(tasks).where(eq(tasks.id, taskId));
  if (!task || task.userId !== ownerId) return undefined;
  const held = await heldWorkspace(rt.db, taskId);
  if (!held) throw new NothingHeldError(`task ${taskId} holds no unpushed work on a node`);
  return held;
}

export async function pushHeldWork(rt: Runtime, ownerId: string, taskId: string): Promise<PushAgainResult | undefined> {
  const held = await ownedHeld(rt, ownerId, taskId);
  if (!held) return undefined;
  const node = await getNode(rt.db, held.nodeId);
  if (!node?.endpoint || node.status !== "running") throw new NothingHeldError(`node ${held.nodeId} that holds the work is ${node?.status ?? "gone"}`);
  const result = await clientForNode(rt, node).pushWorkspace(held.id);
  if (!result) throw new Error(`node ${held.nodeId} answered the push with nothing`);
  if (!result.pushed) {
    const error = result.error ?? "the push was refused";
    await rt.db.update(tasks).set({ pushError: error, updatedAt: sql`now()` }).where(eq(tasks.id, taskId));
    await publishTaskChange(rt.db, taskId, "result");
    return { pushed: false, commit: result.commit, error };
  }
  await rt.db.update(tasks).set({ pushed: true, pushError: null, commitSha: result.commit, updatedAt: sql`now()` }).where(eq(tasks.id, taskId));
  await release(rt, held, taskId, false);
  // Pushed at last: its pull request is opened or updated now (a failure shows on the task, as after a turn).
  await syncPullRequest({ db: rt.db, secrets: rt.secrets, config: rt.config }, taskId);
  return { pushed: true, commit: result.commit, error: null };
}

export async function discardHeldWork(rt: Runtime, ownerId: string, taskId: string): Promise<{ discarded: true } | undefined> {
  const held = await ownedHeld(rt, ownerId, taskId);
  if (!held) return undefined;
  await release(rt, held, taskId, true);
  await rt.db.update(tasks).set({ pushError: null, updatedAt: sql`now()` }).where(eq(tasks.id, taskId));
  return { discarded: true };
}
