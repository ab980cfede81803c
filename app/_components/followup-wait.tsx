"use client";
import { formatCountdown } from "../_lib/format";
import { useCountdown } from "../_lib/use-countdown";
import { FinishButton } from "./finish-button";
import styles from "./followup.module.css";

/** The run waits for the person after the agent's turn: how long until it completes, and "Finish now". */
export function FollowupWait({ taskId, idleUntil }: { taskId: string; idleUntil: string }) {
  const left = useCountdown(idleUntil);
  return (
    <div className={styles.followupWait} data-testid="followup-wait">
      <p className={styles.followupWaitText}>
        <span className={styles.followupWaitDot} aria-hidden="true" />
        <span>
          <strong>Waiting for your follow-up</strong>
          {" · "}
          {left > 0 ? (
            <>
              completes in{" "}
              {/* A timer is not announced each second (implicit aria-live off). */}
              <time role="timer" className={styles.followupCountdown} dateTime={idleUntil} data-testid="followup-countdown">
                {formatCountdown(left)}
              </time>
            </>
          ) : (
            "completing now"
          )}
        </span>
      </p>
      <FinishButton taskId={taskId} />
    </div>
  );
}
