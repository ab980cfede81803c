import type { NodeStatus, NodeView } from "@/lib/contracts/api";
import { nodeStatusLook, pillAttributes } from "../_lib/status-tone";

const LABELS: Record<NodeStatus, string> = {
  pending: "Pending",
  creating: "Creating",
  running: "Running",
  stopping: "Stopping",
  stopped: "Stopped",
  error: "Lost",
};

/** The node's status as a pill; a running node with no work shows as warm. `data-status` is the raw status. */
export function NodeStatusPill({ node }: { node: Pick<NodeView, "status" | "warmSince"> }) {
  const warm = node.status === "running" && node.warmSince !== null;
  const label = warm ? "Warm" : LABELS[node.status];
  return (
    <span className="pill" {...pillAttributes(nodeStatusLook(node.status, warm))} data-status={node.status} data-warm={warm || undefined} data-testid="node-status">
      <span className="pill-dot" aria-hidden="true" />
      <span className="sr-only">Status: </span>
      {label}
    </span>
  );
}
