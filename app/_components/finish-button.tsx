"use client";
import { useFinishTask } from "../_lib/queries";
import styles from "./followup.module.css";

/**
 * "Finish now": the task completes when the agent's turn ends instead of waiting for a follow-up.
 * It stays busy until the live stream shows `finishRequested` (then the caller hides it).
 */
export function FinishButton({ taskId }: { taskId: string }) {
  const finish = useFinishTask(taskId);
  const busy = finish.isPending || finish.isSuccess;
  return (
    <div className={styles.finish}>
      <button
        type="button"
        className="button"
        onClick={() => finish.mutate()}
        disabled={busy}
        aria-busy={busy}
        data-testid="task-finish"
      >
        {busy ? "Finishing…" : "Finish now"}
      </button>
      {finish.error && (
        <p className="field-error" role="alert" data-testid="task-finish-error">
          {finish.error.message}
        </p>
      )}
    </div>
  );
}
