"use client";
import { formatCountdown } from "../_lib/format";
import { useCountdown } from "../_lib/use-countdown";
import { FinishButton } from "./finish-button";

/** The run waits for the person after the agent's turn: how long until it completes, and "Finish now". */
export function FollowupWait({ taskId, idleUntil }: { taskId: string; idleUntil: string }) {
  const left = useCountdown(idleUntil);
  return (
    <div className="followup-wait" data-testid="followup-wait">
      <p className="followup-wait-text">
        <span className="followup-wait-dot" aria-hidden="true" />
        <span>
          <strong>Waiting for your follow-up</strong>
          {" · "}
          {left > 0 ? (
            <>
              completes in{" "}
              {/* A timer is not announced each second (implicit aria-live off). */}
              <time role="timer" className="followup-countdown" dateTime={idleUntil} data-testid="followup-countdown">
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
