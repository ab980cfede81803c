import type { TaskStatus } from "@/lib/contracts/api";

const LABELS: Record<TaskStatus, string> = {
  draft: "Draft",
  ready: "Ready",
  queued: "Queued",
  delegated: "Delegated",
  in_progress: "In progress",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

export function StatusPill({ status, testId }: { status: TaskStatus; testId?: string }) {
  return (
    <span className={`pill pill-${status}`}>
      <span className="pill-dot" aria-hidden="true" />
      <span className="sr-only">Status: </span>
      <span data-testid={testId} data-status={status}>
        {LABELS[status]}
      </span>
    </span>
  );
}
