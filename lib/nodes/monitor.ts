/**
 * One pass of the node monitor (the supervisor runs it every NODE_MONITOR_INTERVAL): it notices a
 * local daemon whose process is gone at once (and restarts it, as systemd would a node's service,
 * when the node holds work), a `creating` node that answers though its ready callback never came
 * (the app was down longer than the daemon retries it), a node stuck `creating` past
 * NODE_PROVISIONING_TIMEOUT, and nodes whose heartbeats stopped (stale → probed → unhealthy → lost).
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { nodes } from "@/db/schema";
import type { Config } from "../config";
import type { KeyPair } from "../auth/keys";
import { nodeReady, type SendEvents } from "../contracts/events";
import { MONITORED_NODE_STATUSES } from "../contracts/statuses";
import { recordError } from "../errors";
import { publishNodeChange } from "../live/publish";
import { probeNode, recordProbe, markNodeLost } from "./health";
import { markNodeReady, publishForNode, startNodeDaemon } from "./lifecycle";
import { wakeRuns } from "../tasks/wake-run";
import { CONTRACT_VERSION } from "../contracts/vm-agent";
import { nodeOccupancy, reapIfIdle, type PoolDeps } from "./pool";
import type { NodeProvider } from "./provider";

export type MonitorDeps = {
  db: Executor;
  provider: NodeProvider;
  send: SendEvents;
  keys: KeyPair;
  config: PoolDeps["config"] &
    Pick<
      Config,
      | "APP_URL"
      | "CALLBACK_TOKEN_TTL"
      | "NODE_ENROLLMENT_TTL"
      | "HEARTBEAT_STALE_AFTER"
      | "NODE_LOST_AFTER"
      | "NODE_HEALTH_PROBE_TIMEOUT"
      | "NODE_MANAGEMENT_TOKEN_TTL"
      | "NODE_PROVISIONING_TIMEOUT"
      | "NODE_READY_PROBE_AFTER"
      | "NODE_RESTART_LIMIT"
      | "NODE_RESTART_WINDOW"
    >;
};

type NodeRow = typeof nodes.$inferSelect;

/** A local daemon whose process is gone: restart it when the node holds work and the budget allows; else the node is lost. */
async function daemonGone(deps: MonitorDeps, node: NodeRow) {
  const busy = (await nodeOccupancy(deps.db, node.id)) > 0;
  const windowStart = Date.now() - deps.config.NODE_RESTART_WINDOW;
  const recent = node.lastRestartAt && node.lastRestartAt.getTime() > windowStart ? node.restartCount : 0;
  if (!busy) {
    // Nothing to save: an idle node whose daemon died (a reboot) is destroyed rather than revived.
    if (node.status === "running" && (await reapIfIdle(deps, node.id, 0))) return;
    await markNodeLost(deps, node.id, "its vm-agent process exited while the node was idle");
    return;
  }
  if (recent >= deps.config.NODE_RESTART_LIMIT) {
    await markNodeLost(deps, node.id, `its vm-agent process exited ${recent + 1} times within ${Math.round(deps.config.NODE_RESTART_WINDOW / 60_000)} min`);
    return;
  }
  // Claim the restart first, so two monitors (two app instances) never start two daemons.
  const claimed = await deps.db
    .update(nodes)
    .set({ health: "restarting", restartCount: recent + 1, lastRestartAt: sql`now()`, updatedAt: sql`now()` })
    .where(
      and(
        eq(nodes.id, node.id),
        eq(nodes.providerServerId, node.providerServerId ?? ""),
        inArray(nodes.status, MONITORED_NODE_STATUSES),
        sql`(${nodes.health} <> 'restarting' or ${nodes.lastRestartAt} < now() - interval '30 seconds')`,
      ),
    )
    .returning({ id: nodes.id });
  if (!claimed.length) return;
  await recordError(deps.db, { nodeId: node.id, message: `node ${node.id}: its vm-agent process exited; restarting it (restart ${recent + 1})`, step: "node_health", kind: "recovery" });
  try {
    const created = await startNodeDaemon({ ...deps, controlPlaneUrl: deps.config.APP_URL, callbackTtlMs: deps.config.CALLBACK_TOKEN_TTL, enrollmentTtlMs: deps.config.NODE_ENROLLMENT_TTL }, node);
    const kept = await deps.db
      .update(nodes)
      .set({ providerServerId: created.providerServerId, endpoint: created.endpoint ?? node.endpoint, updatedAt: sql`now()` })
      .where(and(eq(nodes.id, node.id), inArray(nodes.status, MONITORED_NODE_STATUSES)))
      .returning({ id: nodes.id });
    // The node was destroyed while its daemon started (its task left it, or it was lost): the new
    // daemon is nobody's, and goes too.
    if (!kept.length) {
      await deps.provider.destroy({ ...node, providerServerId: created.providerServerId });
      return;
    }
    await deps.db.transaction((tx) => publishForNode(tx, node.id));
    await publishNodeChange(deps.db);
  } catch (error) {
    await markNodeLost(deps, node.id, `its vm-agent process exited and could not be restarted: ${(error as Error).message}`);
  }
}

/**
 * A `creating` node whose daemon answers for it is ready, whether or not its ready callback arrived
 * (the callback is retried for a while only). Probed once per NODE_READY_PROBE_AFTER, at the
 * endpoint its provider gave it when it was created, over the certificate its provider reads for it.
 * A provider that cannot read it (a cloud machine) leaves the node to its ready callback, the only
 * other source of a pin: it is never called unpinned.
 */
async function adoptIfAnswering(deps: MonitorDeps, node: NodeRow, now: number) {
  const every = deps.config.NODE_READY_PROBE_AFTER;
  if (!node.endpoint || now - node.createdAt.getTime() < every || now - (node.healthCheckedAt?.getTime() ?? 0) < every) return;
  const certificateFingerprint = node.certificateFingerprint ?? (await deps.provider.certificateFingerprint?.(node));
  if (!certificateFingerprint || !(await probeNode(deps, { ...node, certificateFingerprint }))) {
    await deps.db.update(nodes).set({ healthCheckedAt: sql`now()` }).where(and(eq(nodes.id, node.id), eq(nodes.status, "creating")));
    return;
  }
  const ready = await markNodeReady(
    deps.db,
    node.id,
    { endpoint: node.endpoint, certificateFingerprint, version: "unknown (ready callback lost)", contractVersion: CONTRACT_VERSION },
    { kind: "adopted" },
  );
  if (!ready) return;
  await recordError(deps.db, { nodeId: node.id, step: "node_agent_ready", kind: "recovery", message: `node ${node.id} answers but its ready callback never arrived; marked ready` });
  await wakeRuns(deps, ready.taskIds.map((taskId) => nodeReady.create({ taskId, nodeId: node.id })), "throw");
}

export async function monitorNodes(deps: MonitorDeps, now = Date.now()) {
  const watched = await deps.db.select().from(nodes).where(inArray(nodes.status, MONITORED_NODE_STATUSES));
  await Promise.all(
    watched.map(async (node) => {
      if (node.providerServerId && deps.provider.isRunning?.(node) === false) return daemonGone(deps, node);
      if (node.status === "creating") {
        if (now - node.createdAt.getTime() > deps.config.NODE_PROVISIONING_TIMEOUT) {
          await markNodeLost(deps, node.id, `it did not report ready within NODE_PROVISIONING_TIMEOUT (${Math.round(deps.config.NODE_PROVISIONING_TIMEOUT / 1000)} s)`);
          return;
        }
        return adoptIfAnswering(deps, node, now);
      }
      const lastContact = (node.lastHeartbeatAt ?? node.updatedAt).getTime();
      if (now - lastContact <= deps.config.HEARTBEAT_STALE_AFTER) return;
      if (node.health === "healthy" || node.health === "unknown") {
        await deps.db.update(nodes).set({ health: "stale", updatedAt: sql`now()` }).where(and(eq(nodes.id, node.id), eq(nodes.health, node.health)));
        await publishNodeChange(deps.db);
      }
      const answered = await probeNode(deps, node);
      await recordProbe(deps.db, node.id, answered, { heartbeatStale: true });
      if (!answered && now - lastContact > deps.config.HEARTBEAT_STALE_AFTER + deps.config.NODE_LOST_AFTER) {
        await markNodeLost(deps, node.id, `no heartbeat for ${Math.round((now - lastContact) / 1000)} s and it does not answer`);
      }
    }),
  );
}
