/**
 * Orphans on the nodes: workspace folders and tmux sessions a running node holds that belong to no
 * task. The node lists what it holds (GET /inventory); what the database does not account for is
 * reported (an `orphan` error naming the node and the path or session), and removed through the
 * node's own coordinator when it is still there ORPHAN_GRACE after its first report: a workspace is
 * deleted without force (the node stops its agents first, and refuses if its work is not pushed), a
 * tmux session is stopped only when no runtime record of the node owns it. A held workspace
 * (workspaces.held_at: work waiting for its person's decision) is never an orphan.
 *
 * A workspace the database knows is an orphan only when it should no longer be on this node: it was
 * purged (its deletion was recorded), or its row places it on another node. Ended tasks' workspaces
 * that are kept for inspection belong to the retention sweep (lib/retention/sweep.ts).
 */
import { and, eq, inArray } from "drizzle-orm";
import { agentSessions, errors, nodes, workspaces } from "@/db/schema";
import type { NodeInventory } from "../contracts/vm-agent";
import { recordErrorOnce } from "../errors";
import { clientForNode, VmAgentRequestError } from "../nodes/vm-agent-client";
import type { Runtime } from "../runtime";

type Orphan =
  | { kind: "workspace"; workspaceId: string; path: string; why: string }
  | { kind: "tmux"; name: string; why: string };

/** What on the node the database does not account for. */
async function findOrphans(rt: Runtime, nodeId: string, inventory: NodeInventory): Promise<Orphan[]> {
  const ids = inventory.workspaces.map((w) => w.workspaceId);
  const rows = ids.length
    ? await rt.db.select({ id: workspaces.id, nodeId: workspaces.nodeId, heldAt: workspaces.heldAt, purgedAt: workspaces.purgedAt }).from(workspaces).where(inArray(workspaces.id, ids))
    : [];
  const orphans: Orphan[] = [];
  for (const held of inventory.workspaces) {
    const row = rows.find((r) => r.id === held.workspaceId);
    if (row?.heldAt && !row.purgedAt) continue; // waiting for its person, however long
    const why = !row
      ? held.recorded
        ? `no task has workspace ${held.workspaceId}`
        : `no record on the node and no task names it`
      : row.purgedAt
        ? `workspace ${row.id} was deleted at ${row.purgedAt.toISOString()} but is still there`
        : row.nodeId !== nodeId
          ? `workspace ${row.id} belongs on node ${row.nodeId}`
          : undefined;
    if (why) orphans.push({ kind: "workspace", workspaceId: held.workspaceId, path: held.path, why });
  }
  const sessionIds = inventory.tmuxSessions.flatMap((s) => (s.sessionId ? [s.sessionId] : []));
  const known = sessionIds.length ? await rt.db.select({ id: agentSessions.id }).from(agentSessions).where(inArray(agentSessions.id, sessionIds)) : [];
  for (const session of inventory.tmuxSessions) {
    if (!session.sessionId) {
      orphans.push({ kind: "tmux", name: session.name, why: "no agent session of the node owns it" });
    } else if (!known.some((k) => k.id === session.sessionId) && !orphans.some((o) => o.kind === "workspace" && o.workspaceId === session.workspaceId)) {
      // Reported only: it goes with its workspace when that is an orphan, and is left to the node otherwise.
      orphans.push({ kind: "tmux", name: session.name, why: `its agent session ${session.sessionId} is unknown to the control plane` });
    }
  }
  return orphans;
}

const describe = (nodeId: string, orphan: Orphan) =>
  orphan.kind === "workspace" ? `orphan workspace folder on node ${nodeId} at ${orphan.path}: ${orphan.why}` : `orphan tmux session ${orphan.name} on node ${nodeId}: ${orphan.why}`;

/** Removes one orphan through the node; what happened, in words. */
async function remove(client: ReturnType<typeof clientForNode>, orphan: Orphan): Promise<string> {
  try {
    if (orphan.kind === "workspace") await client.deleteWorkspace(orphan.workspaceId, false);
    else if (orphan.why.startsWith("no agent session")) await client.stopOrphanTmuxSession(orphan.name);
    else return "left to its node (a runtime record of the node owns it)";
    return "removed";
  } catch (error) {
    if (error instanceof VmAgentRequestError && error.status === 409) return `kept: ${error.message}`;
    if (error instanceof VmAgentRequestError && error.status === 404) return "gone already";
    throw error;
  }
}

/**
 * One pass over the running nodes: reports each orphan once (with its node and path), and removes
 * those first reported ORPHAN_GRACE ago or more. Returns the messages it recorded.
 */
export async function reportNodeOrphans(rt: Runtime, now = Date.now()): Promise<string[]> {
  const reported: string[] = [];
  const running = await rt.db.select().from(nodes).where(and(eq(nodes.status, "running"), inArray(nodes.health, ["healthy", "unknown", "stale"])));
  for (const node of running) {
    if (!node.endpoint || !node.certificateFingerprint) continue;
    const client = clientForNode(rt, node);
    let inventory: NodeInventory | undefined;
    try {
      inventory = await client.inventory();
    } catch (error) {
      // An older daemon without the inventory, or one that does not answer now: the next pass asks again.
      if (error instanceof VmAgentRequestError) continue;
      throw error;
    }
    if (!inventory) continue;
    for (const orphan of await findOrphans(rt, node.id, inventory)) {
      const message = describe(node.id, orphan);
      const workspaceId = orphan.kind === "workspace" ? orphan.workspaceId : null;
      if (await recordErrorOnce(rt.db, { kind: "orphan", step: "safety_net", nodeId: node.id, workspaceId, message })) {
        reported.push(message);
        continue;
      }
      const [first] = await rt.db.select({ at: errors.createdAt }).from(errors).where(and(eq(errors.kind, "orphan"), eq(errors.message, message))).limit(1);
      if (!first || now - first.at.getTime() < rt.config.ORPHAN_GRACE) continue;
      let outcome: string;
      try {
        outcome = await remove(client, orphan);
      } catch (error) {
        outcome = `could not be removed: ${(error as Error).message}`;
      }
      const after = `${message}; ${outcome} after ORPHAN_GRACE`;
      if (await recordErrorOnce(rt.db, { kind: "orphan", step: "safety_net", nodeId: node.id, workspaceId, message: after })) reported.push(after);
    }
  }
  return reported;
}
