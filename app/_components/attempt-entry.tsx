import type { TaskAttemptView } from "@/lib/contracts/api";
import { absoluteTime, formatDuration } from "../_lib/format";
import { AttemptOutput } from "./attempt-output";
import { StatusPill } from "./status-pill";
import { StepTimeline } from "./step-timeline";
import styles from "./attempts.module.css";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function AttemptTime({ attempt }: { attempt: TaskAttemptView }) {
  if (!attempt.endedAt) return null;
  const ran = attempt.startedAt ? Date.parse(attempt.endedAt) - Date.parse(attempt.startedAt) : NaN;
  return (
    <span className={styles.attemptTime}>
      ended <time dateTime={attempt.endedAt}>{absoluteTime(attempt.endedAt)}</time>
      {Number.isFinite(ran) && <> · ran {formatDuration(ran)}</>}
    </span>
  );
}

/** One earlier attempt as it ended: status, error, commit, and (folded) its steps and output. */
export function AttemptEntry({ taskId, attempt }: { taskId: string; attempt: TaskAttemptView }) {
  const n = attempt.attempt;
  return (
    <li className={styles.attempt} data-testid={`attempt-${n}`} data-status={attempt.status} aria-labelledby={`attempt-${n}-heading`}>
      <div className={styles.attemptHead}>
        <h3 id={`attempt-${n}-heading`}>Attempt {n}</h3>
        <StatusPill status={attempt.status} />
        <AttemptTime attempt={attempt} />
      </div>
      {attempt.error && (
        <p className={styles.attemptError} data-testid="attempt-error">
          <strong>{attempt.status === "cancelled" ? "Cancelled: " : "Error: "}</strong>
          {attempt.error}
        </p>
      )}
      {attempt.commit && (
        <p className={styles.attemptCommit}>
          Commit{" "}
          <code className="sha" title={attempt.commit} data-testid="attempt-commit">
            {attempt.commit}
          </code>{" "}
          <span className="muted">· {attempt.pushed ? "pushed" : "not pushed"}</span>
        </p>
      )}
      <details className={styles.attemptMore} data-testid="attempt-steps">
        <summary>Pipeline · {plural(attempt.steps.length, "step")}</summary>
        <StepTimeline steps={attempt.steps} waiting={false} live={false} testIdPrefix={`attempt-${n}-step-`} />
      </details>
      <AttemptOutput taskId={taskId} attempt={attempt} />
    </li>
  );
}
