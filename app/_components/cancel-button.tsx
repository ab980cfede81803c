"use client";
import { useCancelTask } from "../_lib/queries";
import styles from "./task-view.module.css";

/** Cancels the task; stays busy until the live stream shows it terminal (then it unmounts). */
export function CancelButton({ taskId }: { taskId: string }) {
  const cancel = useCancelTask(taskId);
  const busy = cancel.isPending || cancel.isSuccess;
  return (
    <div className={styles.cancel}>
      <button
        type="button"
        className="button danger"
        onClick={() => cancel.mutate()}
        disabled={busy}
        aria-busy={busy}
        data-testid="task-cancel"
      >
        {busy ? "Cancelling…" : "Cancel"}
      </button>
      {cancel.error && (
        <p className="field-error" role="alert">
          {cancel.error.message}
        </p>
      )}
    </div>
  );
}
