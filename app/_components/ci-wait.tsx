"use client";
import { FinishButton } from "./finish-button";
import styles from "./followup.module.css";

/** The run watches the pull request's CI after the agent's turn (a failure goes back to the agent), and "Finish now" ends the watch. */
export function CiWait({ taskId }: { taskId: string }) {
  return (
    <div className={styles.followupWait} data-testid="ci-wait">
      <p className={styles.followupWaitText}>
        <span className={styles.followupWaitDot} aria-hidden="true" />
        <span>
          <strong>Waiting for the pull request&apos;s CI</strong>
          {" · "}a failure goes back to the agent
        </span>
      </p>
      <FinishButton taskId={taskId} />
    </div>
  );
}
