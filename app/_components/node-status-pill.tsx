import type { NodeStatus, NodeView } from "@/lib/contracts/api";

type Tone = "neutral" | "blue" | "amber" | "green" | "red" | "slate" | "teal";

const LOOK: Record<NodeStatus, { label: string; tone: Tone }> = {
  pending: { label: "Pending", tone: "blue" },
  creating: { label: "Creating", tone: "blue" },
  running: { label: "Running", tone: "green" },
  stopping: { label: "Stopping", tone: "amber" },
  stopped: { label: "Stopped", tone: "slate" },
  error: { label: "Lost", tone: "red" },
};

/** The node's status as a pill; a running node with no work shows as warm. `data-status` is the raw status. */
export function NodeStatusPill({ node }: { node: Pick<NodeView, "status" | "warmSince"> }) {
  const warm = node.status === "running" && node.warmSince !== null;
  const { label, tone } = warm ? { label: "Warm", tone: "teal" as const } : LOOK[node.status];
  const moving = node.status === "creating" || node.status === "pending" || node.status === "stopping";
  return (
    <span className={`pill tone-${tone}${moving ? " pill-moving" : ""}`} data-status={node.status} data-warm={warm || undefined} data-testid="node-status">
      <span className="pill-dot" aria-hidden="true" />
      <span className="sr-only">Status: </span>
      {label}
    </span>
  );
}
