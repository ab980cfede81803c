/**
 * The operator's destroy button. An idle node is destroyed under the pool lock (so a task that
 * claims it at the same moment keeps it); a node that holds tasks is refused unless forced, and
 * then declared lost: its tasks are woken to move to another node or fail with the reason.
 */
import { and, eq, isNull } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { tasks } from "@/db/schema";
import type { DestroyNodeResponse } from "../contracts/api";
import { STOPPED_NODE_STATUSES } from "../contracts/statuses";
import { markNodeLost } from "../nodes/health";
import { destroyNode, getNode } from "../nodes/lifecycle";
import { reapIfIdle, type PoolDeps } from "../nodes/pool";

export const DESTROYED_BY_OPERATOR = "destroyed by the operator";

/** No such node, or another user's. */
export class NodeNotFoundError extends Error {
  override readonly name = "NodeNotFoundError";
  constructor(readonly nodeId: string) {
    super(`node ${nodeId} not found`);
  }
}

/** The node holds tasks; destroying it needs `force`. */
export class NodeInUseError extends Error {
  override readonly name = "NodeInUseError";
  constructor(
    readonly nodeId: string,
    readonly taskIds: string[],
  ) {
    super(
      `node ${nodeId} holds ${taskIds.length === 1 ? "task" : `${taskIds.length} tasks`} ${taskIds.join(", ")}; ` +
        "destroy it with force to move them to another node or fail them",
    );
  }
}

/** The node is already stopped (or being stopped). */
export class NodeAlreadyStoppedError extends Error {
  override readonly name = "NodeAlreadyStoppedError";
  constructor(
    readonly nodeId: string,
    readonly status: string,
  ) {
    super(`node ${nodeId} is already ${status}`);
  }
}

export type DestroyNodeDeps = PoolDeps;

/** Tasks holding a slot on the node (placed on it, cleanup not done): what `nodeOccupancy` counts. */
async function slotHolders(db: Executor, nodeId: string): Promise<string[]> {
  const rows = await db
    .select({ id: tasks.id })
    .from(tasks)
    .where(and(eq(tasks.nodeId, nodeId), isNull(tasks.cleanedUpAt)))
    .orderBy(tasks.createdAt);
  return rows.map((r) => r.id);
}

async function answer(db: Executor, nodeId: string, taskIds: string[]): Promise<DestroyNodeResponse> {
  const node = await getNode(db, nodeId);
  return { nodeId, status: node?.status ?? "stopped", tasks: taskIds };
}

/**
 * Destroys the user's node. Throws NodeNotFoundError (unknown, or another user's),
 * NodeAlreadyStoppedError, or NodeInUseError (it holds tasks and `force` is not set).
 */
export async function destroyNodeForOperator(
  deps: DestroyNodeDeps,
  userId: string,
  nodeId: string,
  options: { force?: boolean } = {},
): Promise<DestroyNodeResponse> {
  const node = await getNode(deps.db, nodeId);
  if (!node || node.userId !== userId) throw new NodeNotFoundError(nodeId);
  if (STOPPED_NODE_STATUSES.includes(node.status)) throw new NodeAlreadyStoppedError(nodeId, node.status);

  const holders = await slotHolders(deps.db, nodeId);
  if (holders.length && !options.force) throw new NodeInUseError(nodeId, holders);

  if (node.status === "error") {
    // Already lost (its tasks were woken then); only its machine is left to destroy.
    await destroyNode(deps, nodeId, DESTROYED_BY_OPERATOR);
    return answer(deps.db, nodeId, holders);
  }
  if (!holders.length && node.status === "running") {
    if (await reapIfIdle(deps, nodeId, 0)) return answer(deps.db, nodeId, []);
    // A task claimed it between the check and the lock, or it stopped meanwhile: say which.
    const now = await getNode(deps.db, nodeId);
    if (!now || STOPPED_NODE_STATUSES.includes(now.status)) throw new NodeAlreadyStoppedError(nodeId, now?.status ?? "stopped");
    const claimed = await slotHolders(deps.db, nodeId);
    if (!options.force) throw new NodeInUseError(nodeId, claimed);
    return destroyAsLost(deps, nodeId, claimed);
  }
  // Holding tasks (forced), or still being created: declared lost, which wakes whatever is on it.
  return destroyAsLost(deps, nodeId, holders);
}

async function destroyAsLost(deps: DestroyNodeDeps, nodeId: string, holders: string[]) {
  if (!(await markNodeLost(deps, nodeId, DESTROYED_BY_OPERATOR))) {
    const now = await getNode(deps.db, nodeId);
    if (now?.status === "error") await destroyNode(deps, nodeId, DESTROYED_BY_OPERATOR);
    else throw new NodeAlreadyStoppedError(nodeId, now?.status ?? "stopped");
  }
  return answer(deps.db, nodeId, holders);
}
