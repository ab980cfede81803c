/**
 * Nothing grows without bound. A completed task whose work is pushed has its worktree deleted at
 * cleanup; failed and cancelled tasks keep theirs for inspection for WORKSPACE_RETENTION, then it
 * is deleted (forced: what was not pushed is the inspection copy). Stopped nodes' folders go after
 * the same retention. Live events and callback receipts go after EVENT_RETENTION; a task's agent
 * output is kept for its life (OUTPUT_RETENTION, unset), as its turns, checks and usage are.
 * Node enrollment tokens go once expired (NODE_ENROLLMENT_TTL): an expired one enrolls nothing.
 * What per-minute limits counted (user_actions) goes after an hour.
 */
import { and, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import { callbackReceipts, liveEvents, nodeEnrollments, nodes, tasks, userActions, workspaces } from "@/db/schema";
import { queryRows, type Executor } from "@/db/client";
import { ENDED_WORKSPACE_STATUSES } from "../contracts/statuses";
import type { Runtime } from "../runtime";
import { getNode } from "../nodes/lifecycle";
import { clientForNode, VmAgentRequestError } from "../nodes/vm-agent-client";

/** Deletes a stopped workspace's worktree on its node; a node that is gone has nothing left to delete. */
export async function purgeWorkspace(rt: Runtime, workspace: { id: string; nodeId: string }, force: boolean): Promise<"purged" | "kept"> {
  const node = await getNode(rt.db, workspace.nodeId);
  if (node?.status === "running" && node.endpoint) {
    try {
      await clientForNode(rt, node).deleteWorkspace(workspace.id, force);
    } catch (error) {
      if (!(error instanceof VmAgentRequestError)) throw error;
      if (error.status === 409) return "kept"; // work that is not pushed: kept until the retention ends
      if (error.status !== 404) throw error;
    }
  }
  await rt.db.update(workspaces).set({ purgedAt: sql`now()`, updatedAt: sql`now()` }).where(eq(workspaces.id, workspace.id));
  return "purged";
}

async function expiredWorkspaces(db: Executor, before: Date) {
  return db
    .select({ id: workspaces.id, nodeId: workspaces.nodeId })
    .from(workspaces)
    .innerJoin(tasks, eq(tasks.id, workspaces.taskId))
    // A held workspace waits for its person's decision, however long (lib/workspaces/held-work.ts).
    .where(and(isNull(workspaces.purgedAt), isNull(workspaces.heldAt), inArray(workspaces.status, ENDED_WORKSPACE_STATUSES), lt(tasks.completedAt, before)))
    .limit(200);
}

export type SweepReport = { workspaces: number; nodeFolders: number; liveEvents: number; receipts: number; outputBatches: number; enrollments: number; userActions: number };

export async function sweepRetention(rt: Runtime, now = Date.now()): Promise<SweepReport> {
  const report: SweepReport = { workspaces: 0, nodeFolders: 0, liveEvents: 0, receipts: 0, outputBatches: 0, enrollments: 0, userActions: 0 };
  for (const workspace of await expiredWorkspaces(rt.db, new Date(now - rt.config.WORKSPACE_RETENTION))) {
    if ((await purgeWorkspace(rt, workspace, true)) === "purged") report.workspaces++;
  }
  if (rt.provider.purge) {
    const stale = await rt.db
      .select({ id: nodes.id, provider: nodes.provider })
      .from(nodes)
      .where(and(eq(nodes.status, "stopped"), isNull(nodes.purgedAt), lt(nodes.updatedAt, new Date(now - rt.config.WORKSPACE_RETENTION))))
      .limit(200);
    for (const node of stale) {
      await rt.provider.purge(node);
      await rt.db.update(nodes).set({ purgedAt: sql`now()` }).where(eq(nodes.id, node.id));
      report.nodeFolders++;
    }
  }
  const cutoff = new Date(now - rt.config.EVENT_RETENTION);
  report.liveEvents = (await rt.db.delete(liveEvents).where(lt(liveEvents.createdAt, cutoff)).returning({ id: liveEvents.id })).length;
  report.receipts = (await rt.db.delete(callbackReceipts).where(lt(callbackReceipts.receivedAt, cutoff)).returning({ id: callbackReceipts.messageId })).length;
  // A task's output is its record: kept for the task's life unless OUTPUT_RETENTION says otherwise,
  // and then only an ended task's, counted from its end. What goes no longer counts against its quota.
  const outputCutoff = new Date(now - rt.config.OUTPUT_RETENTION);
  const [swept] =
    rt.config.OUTPUT_RETENTION > 0
      ? await queryRows<{ n: number }>(
          rt.db,
          sql`with gone as (delete from agent_output using tasks where tasks.id = agent_output.task_id and tasks.completed_at < ${outputCutoff.toISOString()}::timestamptz returning agent_output.task_id, agent_output.bytes),
                   per_task as (select task_id, sum(bytes) as bytes from gone group by task_id),
                   counted as (update tasks set output_bytes = greatest(0, output_bytes - per_task.bytes) from per_task where tasks.id = per_task.task_id)
              select count(*)::int as n from gone`,
        )
      : [];
  report.outputBatches = swept?.n ?? 0;
  // By the database's clock, which set their expiry (lib/nodes/enrollment.ts).
  report.enrollments = (await rt.db.delete(nodeEnrollments).where(lt(nodeEnrollments.expiresAt, sql`now()`)).returning({ hash: nodeEnrollments.tokenHash })).length;
  // The limits look back a minute; an hour leaves room for any clock skew between instances.
  report.userActions = (await rt.db.delete(userActions).where(lt(userActions.createdAt, sql`now() - interval '1 hour'`)).returning({ id: userActions.id })).length;
  return report;
}
