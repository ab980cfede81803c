/**
 * What a heartbeat's session list tells the control plane beyond load: a session the database
 * still counts as working that the node no longer lists has finished, and its completion may have
 * been lost (the node's outbox gave up): it is read back from the node and applied. A session the
 * node runs that the database does not know is reported as an orphan.
 */
import { and, eq, inArray, lt } from "drizzle-orm";
import { agentSessions, workspaces } from "@/db/schema";
import { LIVE_SESSION_STATUSES } from "../contracts/statuses";
import type { NodeHeartbeatCallback } from "../contracts/vm-agent";
import type { Runtime } from "../runtime";
import { recordErrorOnce } from "../errors";
import { getNode } from "../nodes/lifecycle";
import { clientForNode } from "../nodes/vm-agent-client";
import { applyAgentCompletion } from "./completion";

/** How long a session may be missing from a heartbeat before its completion counts as lost. */
const SETTLE_MS = 10_000;

export async function auditHeartbeatSessions(rt: Runtime, nodeId: string, body: NodeHeartbeatCallback) {
  const listed = new Set(body.sessions.map((s) => s.sessionId));
  const live = await rt.db
    .select({ id: agentSessions.id, workspaceId: agentSessions.workspaceId, startedAt: agentSessions.startedAt })
    .from(agentSessions)
    .innerJoin(workspaces, eq(workspaces.id, agentSessions.workspaceId))
    .where(and(eq(workspaces.nodeId, nodeId), eq(agentSessions.status, "running"), lt(agentSessions.startedAt, new Date(Date.now() - SETTLE_MS))));
  const missing = live.filter((s) => !listed.has(s.id));
  const node = missing.length ? await getNode(rt.db, nodeId) : undefined;
  for (const session of missing) {
    const state = await clientForNode(rt, node!).sessionState(session.workspaceId, session.id).catch(() => undefined);
    if (state?.completion) await applyAgentCompletion(rt, session.id, state.completion);
  }
  const known = body.sessions.length
    ? await rt.db.select({ id: agentSessions.id }).from(agentSessions).where(and(inArray(agentSessions.id, [...listed]), inArray(agentSessions.status, LIVE_SESSION_STATUSES)))
    : [];
  for (const session of body.sessions.filter((s) => !known.some((k) => k.id === s.sessionId))) {
    const message = `node ${nodeId} runs agent session ${session.sessionId}, which no task is waiting for`;
    await recordErrorOnce(rt.db, { nodeId, workspaceId: session.workspaceId, kind: "orphan", step: "heartbeat", message });
  }
}
