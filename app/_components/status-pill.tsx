import type { TaskStatus } from "@/lib/contracts/api";
import { pillAttributes, TASK_STATUS_LOOK } from "../_lib/status-tone";

export const STATUS_LABELS: Record<TaskStatus, string> = {
  draft: "Draft",
  ready: "Ready",
  queued: "Queued",
  delegated: "Delegated",
  in_progress: "In progress",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** A coloured status pill; the label is human, `data-status` carries the raw value. */
export function StatusPill({ status }: { status: TaskStatus }) {
  return (
    <span className="pill" {...pillAttributes(TASK_STATUS_LOOK[status])} data-status={status}>
      <span className="pill-dot" aria-hidden="true" />
      <span className="sr-only">Status: </span>
      {STATUS_LABELS[status]}
    </span>
  );
}
