"use client";
import { useRetryTask } from "../_lib/queries";
import { ErrorBanner } from "./error-banner";
import styles from "./task-view.module.css";

/**
 * Runs a failed or cancelled task again. It stays busy until the live stream shows the new attempt
 * (the task leaves failed/cancelled and this unmounts; the caller keys it by attempt, so a task that
 * fails again gets a fresh button).
 */
export function RetryButton({ taskId }: { taskId: string }) {
  const retry = useRetryTask(taskId);
  const busy = retry.isPending || retry.isSuccess;
  return (
    <div className={styles.taskAction}>
      <button
        type="button"
        className="button primary"
        onClick={() => retry.mutate()}
        disabled={busy}
        aria-busy={busy}
        data-testid="task-retry"
      >
        {busy ? "Retrying…" : "Retry"}
      </button>
      {retry.error && (
        <ErrorBanner title="Could not retry the task" testId="task-retry-error">
          {retry.error.message}
        </ErrorBanner>
      )}
    </div>
  );
}
