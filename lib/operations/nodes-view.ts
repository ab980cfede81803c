/**
 * The nodes page's read: the user's nodes, newest first, each with its load, health, isolation and
 * the tasks holding its slots. Stopped nodes drop out a day after they stopped unless asked for.
 */
import type { EgressEnforcement } from "../contracts/egress";
import { and, desc, eq, gt, inArray, isNull, ne, or } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { nodes, tasks } from "@/db/schema";
import type { NodeSlotTask, NodeView } from "../contracts/api";
import type { IsolationMode } from "../nodes/isolation";
import { briefTitle } from "./titles";

/** How long a stopped node stays on the page. */
export const STOPPED_NODE_SHOWN_FOR_MS = 24 * 60 * 60 * 1000;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export type ListNodesOptions = {
  /** MAX_WORKSPACES_PER_NODE: every node's number of slots. */
  capacity: number;
  /** Include nodes that stopped more than a day ago. */
  includeOldStopped?: boolean;
  now?: number;
};

/**
 * Tasks holding a slot on these nodes: placed on the node, cleanup not done (the same rule as
 * `occupancySql` in lib/nodes/statuses.ts, so "2 of 3" here is what placement counts).
 */
async function slotHolders(executor: Executor, nodeIds: string[]) {
  if (!nodeIds.length) return new Map<string, NodeSlotTask[]>();
  const rows = await executor
    .select({ id: tasks.id, nodeId: tasks.nodeId, prompt: tasks.prompt, status: tasks.status })
    .from(tasks)
    .where(and(inArray(tasks.nodeId, nodeIds), isNull(tasks.cleanedUpAt)))
    .orderBy(tasks.createdAt);
  const byNode = new Map<string, NodeSlotTask[]>();
  for (const row of rows) {
    if (!row.nodeId) continue;
    const list = byNode.get(row.nodeId) ?? [];
    list.push({ id: row.id, title: briefTitle(row.prompt), status: row.status });
    byNode.set(row.nodeId, list);
  }
  return byNode;
}

export async function listNodes(executor: Executor, userId: string, options: ListNodesOptions): Promise<NodeView[]> {
  const cutoff = new Date((options.now ?? Date.now()) - STOPPED_NODE_SHOWN_FOR_MS);
  const shown = options.includeOldStopped ? undefined : or(ne(nodes.status, "stopped"), gt(nodes.updatedAt, cutoff));
  const rows = await executor
    .select()
    .from(nodes)
    .where(and(eq(nodes.userId, userId), shown))
    .orderBy(desc(nodes.createdAt), desc(nodes.id));
  const holders = await slotHolders(
    executor,
    rows.map((n) => n.id),
  );
  return rows.map((node): NodeView => {
    const held = holders.get(node.id) ?? [];
    return {
      id: node.id,
      provider: node.provider,
      status: node.status,
      health: node.health,
      endpoint: node.endpoint,
      cpuPercent: node.cpuPercent,
      memoryPercent: node.memoryPercent,
      diskPercent: node.diskPercent,
      lastHeartbeatAt: iso(node.lastHeartbeatAt),
      warmSince: iso(node.warmSince),
      createdAt: node.createdAt.toISOString(),
      updatedAt: node.updatedAt.toISOString(),
      errorMessage: node.errorMessage,
      workspaces: { count: held.length, capacity: options.capacity, tasks: held },
      autoProvisioned: node.autoProvisioned,
      isolation: { mode: node.isolation as IsolationMode | null, reason: node.isolationReason },
      egress: { mode: node.egress as EgressEnforcement["mode"] | null, reason: node.egressReason },
    };
  });
}
