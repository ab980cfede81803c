import type { NodeHealth } from "@/lib/contracts/api";
import styles from "./nodes.module.css";
import { NODE_HEALTH_TONE } from "../_lib/status-tone";

const TEXT: Record<NodeHealth, string> = {
  unknown: "health unknown",
  healthy: "healthy",
  stale: "stale",
  unhealthy: "unhealthy",
  restarting: "restarting",
};

const TITLE: Record<NodeHealth, string> = {
  unknown: "No heartbeat or probe yet",
  healthy: "Heartbeats arrive and the node answers",
  stale: "No heartbeat for a while",
  unhealthy: "The node did not answer a health probe",
  restarting: "Its daemon is being restarted",
};

/** The node's health as a dot and a word. */
export function HealthBadge({ health }: { health: NodeHealth }) {
  return (
    <span className={styles.health} data-tone={NODE_HEALTH_TONE[health]} title={TITLE[health]} data-testid="node-health" data-health={health}>
      <span className={styles.healthDot} aria-hidden="true" />
      {TEXT[health]}
    </span>
  );
}
