import { STOPPED_NODE_STATUSES } from "@/lib/contracts/statuses";
import type { ReactNode } from "react";
import type { NodeView } from "@/lib/contracts/api";
import { absoluteTime, relativeTime, secondsAgo } from "../_lib/format";
import { DestroyNodeButton } from "./destroy-node-button";
import { HealthBadge } from "./health-badge";
import { NodeEgress, NodeIsolation } from "./node-isolation";
import { NodeSlots } from "./node-slots";
import { NodeStatusPill } from "./node-status-pill";
import { UsageBar } from "./usage-bar";
import styles from "./nodes.module.css";

/** A heartbeat older than three of the vm-agent's 15 s intervals is late. */
const LATE_HEARTBEAT_MS = 45_000;

const isGone = (node: NodeView) => STOPPED_NODE_STATUSES.includes(node.status);

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </>
  );
}

function Time({ iso, now, precise = false }: { iso: string; now: number; precise?: boolean }) {
  return (
    <time dateTime={iso} title={absoluteTime(iso)}>
      {precise ? secondsAgo(iso, now) : relativeTime(iso, now)}
    </time>
  );
}

function Heartbeat({ node, now }: { node: NodeView; now: number }) {
  if (!node.lastHeartbeatAt) return <span className="muted">none yet</span>;
  const late = !isGone(node) && now - Date.parse(node.lastHeartbeatAt) > LATE_HEARTBEAT_MS;
  return (
    <span className={late ? styles.late : undefined} data-testid="node-heartbeat">
      <Time iso={node.lastHeartbeatAt} now={now} precise />
    </span>
  );
}

/** One node: status, health, load, slots and its tasks, warm pool, isolation, egress enforcement, and the destroy button. */
export function NodeCard({ node, now, targeted }: { node: NodeView; now: number; targeted: boolean }) {
  const gone = isGone(node);
  return (
    <li
      id={`node-${node.id}`}
      className={`card ${styles.node}${gone ? ` ${styles.nodeGone}` : ""}`}
      data-targeted={targeted || undefined}
      data-testid={`node-${node.id}`}
      data-status={node.status}
    >
      <header className={styles.nodeHead}>
        <div className={styles.nodeTitle}>
          <code className={styles.nodeId}>{node.id}</code>
          <span className={styles.nodeSub}>
            {node.provider}
            {node.autoProvisioned ? " · auto-provisioned" : " · added by hand"}
            {node.endpoint && !gone && <> · <span className="mono">{node.endpoint.replace(/^https?:\/\//, "")}</span></>}
          </span>
        </div>
        <NodeStatusPill node={node} />
      </header>

      {node.errorMessage && (
        <p className={styles.nodeError} data-testid="node-error">
          {node.errorMessage}
        </p>
      )}

      {!gone && (
        <div
          className={node.status === "error" ? `${styles.usages} ${styles.usagesStale}` : styles.usages}
          title={node.status === "error" ? "As last reported, before the node was lost" : undefined}
        >
          <UsageBar label="CPU" value={node.cpuPercent} />
          <UsageBar label="Memory" value={node.memoryPercent} />
          <UsageBar label="Disk" value={node.diskPercent} />
        </div>
      )}

      <dl className="facts">
        {!gone && (
          <Fact term="Health">
            <HealthBadge health={node.health} />
          </Fact>
        )}
        <Fact term="Heartbeat">
          <Heartbeat node={node} now={now} />
        </Fact>
        <Fact term="Slots">
          <NodeSlots workspaces={node.workspaces} />
        </Fact>
        <Fact term="Workspaces">
          <NodeIsolation isolation={node.isolation} />
        </Fact>
        <Fact term="Network">
          <NodeEgress egress={node.egress} />
        </Fact>
        {!gone && (
          <Fact term="Warm since">
            {node.warmSince ? <Time iso={node.warmSince} now={now} /> : <span className="muted">{node.status === "running" ? "working" : "—"}</span>}
          </Fact>
        )}
        <Fact term={gone ? "Stopped" : "Created"}>
          <Time iso={gone ? node.updatedAt : node.createdAt} now={now} />
        </Fact>
      </dl>

      {!gone && (
        <footer className={styles.nodeFoot}>
          <DestroyNodeButton node={node} />
        </footer>
      )}
    </li>
  );
}
