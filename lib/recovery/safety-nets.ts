/**
 * The node safety nets the cron runs every minute (lib/runs/jobs.ts lists them). They are not how
 * nodes normally end (cleanup and the warm pool do that); they catch what slipped: a node past its
 * lifetime, a lost node whose machine could not be destroyed, orphans. The nets for runs (failed
 * cleanups, stuck tasks) are lib/runs/cleanup.ts and lib/runs/stuck.ts.
 */
import { and, eq, inArray, lt } from "drizzle-orm";
import { nodes, tasks } from "@/db/schema";
import { ENDED_NODE_STATUSES, WANTED_NODE_STATUSES } from "../contracts/statuses";
import type { Runtime } from "../runtime";
import { recordErrorOnce } from "../errors";
import { reapIfIdle } from "../nodes/pool";
import { destroyNode } from "../nodes/lifecycle";
import { nodeLost } from "../contracts/events";
import { wakeRuns } from "../tasks/wake-run";
import { reportNodeOrphans } from "./orphans";
import { RUN_STATES } from "../tasks/state-machine";

/** Auto-provisioned nodes past MAX_AUTO_NODE_LIFETIME are destroyed once idle (never under a working agent). */
export async function retireOldNodes(rt: Runtime, now = Date.now()) {
  const old = await rt.db
    .select({ id: nodes.id })
    .from(nodes)
    .where(and(eq(nodes.status, "running"), eq(nodes.autoProvisioned, true), lt(nodes.createdAt, new Date(now - rt.config.MAX_AUTO_NODE_LIFETIME))));
  const retired = [];
  for (const node of old) if (await reapIfIdle(rt, node.id, 0)) retired.push(node.id);
  return retired;
}

/**
 * Lost nodes (`error`) whose machine could not be destroyed when they were lost (the provider failed
 * then): destroyed again, since a cloud bills a machine until it is deleted. A failure is reported once and tried at the next pass.
 */
export async function destroyLostNodes(rt: Runtime, now = Date.now(), settleMs = 60_000) {
  const lost = await rt.db
    .select({ id: nodes.id })
    .from(nodes)
    .where(and(eq(nodes.status, "error"), lt(nodes.updatedAt, new Date(now - settleMs))))
    .limit(50);
  const destroyed: string[] = [];
  for (const node of lost) {
    try {
      await destroyNode(rt, node.id);
      destroyed.push(node.id);
    } catch (error) {
      await recordErrorOnce(rt.db, { kind: "cleanup", nodeId: node.id, step: "safety_net", message: `node ${node.id}'s machine could not be destroyed: ${(error as Error).message}` });
    }
  }
  return destroyed;
}

const reportOrphan = (rt: Runtime, entry: { message: string; nodeId?: string | null; taskId?: string | null; workspaceId?: string | null }) =>
  recordErrorOnce(rt.db, { ...entry, kind: "orphan", step: "safety_net" });

/**
 * Orphans, reported with what was done about them: node daemons running without a live node row
 * (stopped, since they are ours and hold nothing), and unfinished tasks still pointing at a node
 * that is gone (their run is woken, or re-driven by the reconciler if it is lost), and workspace
 * folders and tmux sessions on running nodes that belong to no task (orphans.ts).
 */
export async function reportOrphans(rt: Runtime, now = Date.now()) {
  const reported: string[] = [];
  for (const running of rt.provider.listRunning?.() ?? []) {
    const [row] = await rt.db.select({ status: nodes.status }).from(nodes).where(eq(nodes.id, running.id));
    if (row && WANTED_NODE_STATUSES.includes(row.status)) continue;
    await rt.provider.destroy(running);
    const message = `node ${running.id}'s daemon was running without a live node (${row ? `its row says ${row.status}` : "no row"}); stopped`;
    if (await reportOrphan(rt, { nodeId: running.id, message })) reported.push(message);
  }
  const stranded = await rt.db
    .select({ taskId: tasks.id, nodeId: nodes.id, workspaceId: tasks.workspaceId, nodeStatus: nodes.status })
    .from(tasks)
    .innerJoin(nodes, eq(nodes.id, tasks.nodeId))
    .where(and(RUN_STATES.active, inArray(nodes.status, ENDED_NODE_STATUSES), lt(nodes.updatedAt, new Date(now - 60_000))));
  for (const t of stranded) {
    await wakeRuns(rt, [nodeLost.create({ taskId: t.taskId, nodeId: t.nodeId })], "throw");
    const message = `task ${t.taskId} still points at node ${t.nodeId}, which is ${t.nodeStatus}; its run was woken to move on`;
    if (await reportOrphan(rt, { taskId: t.taskId, nodeId: t.nodeId, workspaceId: t.workspaceId, message })) reported.push(message);
  }
  reported.push(...(await reportNodeOrphans(rt, now)));
  return reported;
}
