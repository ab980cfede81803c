/**
 * The connections a workspace's egress proxy refused, as its node reports them (counts since its
 * last report), added up per host, port and reason so the task page can say "blocked:
 * registry.example:443, 3 times". A report is applied once (its message id).
 */
import { desc, eq, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { egressRefusals } from "@/db/schema";
import type { TaskNetworkView } from "../contracts/api";
import type { EgressRefusalsCallback } from "../contracts/egress";
import { firstDelivery, type CallbackOutcome } from "../callback-receipts";
import { publishTaskChange } from "../live/publish";
import { getWorkspace } from "../workspaces/lifecycle";

/** How many of a task's refused hosts its view lists (the most recent first). */
const REFUSALS_SHOWN = 50;

export async function recordEgressRefusals(db: Executor, workspaceId: string, body: EgressRefusalsCallback): Promise<{ outcome: CallbackOutcome }> {
  const workspace = await getWorkspace(db, workspaceId);
  if (!workspace) return { outcome: "ignored" };
  return db.transaction(async (tx) => {
    if (!(await firstDelivery(tx, body.messageId, "egress-refusals"))) return { outcome: "duplicate" as const };
    for (const refusal of body.refusals) {
      const at = new Date(refusal.lastAt);
      await tx
        .insert(egressRefusals)
        .values({ workspaceId, taskId: workspace.taskId, host: refusal.host.toLowerCase(), port: refusal.port, reason: refusal.reason, count: refusal.count, firstAt: at, lastAt: at })
        .onConflictDoUpdate({
          target: [egressRefusals.workspaceId, egressRefusals.host, egressRefusals.port, egressRefusals.reason],
          set: { count: sql`${egressRefusals.count} + ${refusal.count}`, lastAt: sql`greatest(${egressRefusals.lastAt}, ${at})` },
        });
    }
    await publishTaskChange(tx, workspace.taskId, "workspace");
    return { outcome: "applied" as const };
  });
}

/** A task's refusals over all its workspaces, the most recent first. */
export async function taskRefusals(db: Executor, taskId: string): Promise<TaskNetworkView["refusals"]> {
  const rows = await db
    .select({ host: egressRefusals.host, port: egressRefusals.port, reason: egressRefusals.reason, count: sql<number>`sum(${egressRefusals.count})::bigint`.mapWith(Number), lastAt: sql<Date>`max(${egressRefusals.lastAt})`.mapWith((value: string | Date) => new Date(value)) })
    .from(egressRefusals)
    .where(eq(egressRefusals.taskId, taskId))
    .groupBy(egressRefusals.host, egressRefusals.port, egressRefusals.reason)
    .orderBy(desc(sql`max(${egressRefusals.lastAt})`))
    .limit(REFUSALS_SHOWN);
  return rows.map((row) => ({ host: row.host, port: row.port, reason: row.reason as TaskNetworkView["refusals"][number]["reason"], count: row.count, lastAt: row.lastAt.toISOString() }));
}
