"use client";
import Link from "next/link";
import type { TaskDetail } from "@/lib/contracts/api";
import { pauseTitle } from "../_lib/budget";
import { formatCountdown } from "../_lib/format";
import { useCountdown } from "../_lib/use-countdown";
import { FinishButton } from "./finish-button";
import { RaiseBudgetForm } from "./raise-budget-form";
import styles from "./budget.module.css";

type Pause = NonNullable<TaskDetail["budget"]["paused"]>;

/** How long the task still waits before it completes on its own (the idle timeout runs while it is paused too). */
function IdleCountdown({ idleUntil, what }: { idleUntil: string; what: string }) {
  const left = useCountdown(idleUntil);
  if (left <= 0) return <>It is completing now.</>;
  return (
    <>
      It completes in{" "}
      {/* A timer is not announced each second (implicit aria-live off). */}
      <time role="timer" className={styles.pauseCountdown} dateTime={idleUntil} data-testid="budget-pause-countdown">
        {formatCountdown(left)}
      </time>{" "}
      unless {what} is raised.
    </>
  );
}

/** What the person can do about it: raise the task's own budget here, or their day's or month's in settings. */
function PauseAction({ task, pause }: { task: TaskDetail; pause: Pause }) {
  if (pause.kind === "task") return <RaiseBudgetForm taskId={task.id} budget={task.budget} />;
  if (pause.kind === "day" || pause.kind === "month") {
    return (
      <Link href="/settings#spend-limits" className="button primary" data-testid="budget-settings-link">
        Raise your {pause.kind === "day" ? "daily" : "monthly"} limit
      </Link>
    );
  }
  return null;
}

/**
 * A budget holds the task (in place of the wait for a follow-up): why, in the control plane's words;
 * the turn it stopped, which goes on once raised; the idle countdown; and what to do: raise the
 * budget, or finish now.
 */
export function BudgetPause({ task, pause }: { task: TaskDetail; pause: Pause }) {
  const waiting = task.executionStep === "awaiting_followup" && task.idleUntil !== null;
  return (
    <div className={styles.pause} data-tone="warn" data-kind={pause.kind ?? "unknown"} data-testid="budget-pause">
      <div className={styles.pauseText}>
        <p className={styles.pauseTitle} role="status">
          <span className={styles.pauseIcon} aria-hidden="true" />
          <strong data-testid="budget-pause-title">{pauseTitle(pause.kind)}</strong>
        </p>
        <p className={styles.pauseReason} data-testid="budget-pause-reason">
          {pause.reason}
        </p>
        {(pause.interruptedTurn !== null || waiting) && (
          <p className={styles.pauseNote}>
            {pause.interruptedTurn !== null && <>Turn {pause.interruptedTurn} was stopped mid-way; its work is committed and pushed, and it goes on once the budget is raised. </>}
            {waiting && task.idleUntil && <IdleCountdown idleUntil={task.idleUntil} what={pause.kind === "day" || pause.kind === "month" ? "your limit" : "the budget"} />}
          </p>
        )}
      </div>
      <div className={styles.pauseActions}>
        <PauseAction task={task} pause={pause} />
        <FinishButton taskId={task.id} />
      </div>
    </div>
  );
}
