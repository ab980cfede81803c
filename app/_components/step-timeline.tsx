import type { TaskStepView } from "@/lib/contracts/api";
import { formatDuration } from "../_lib/format";
import { LiveDuration } from "./live-duration";
import styles from "./timeline.module.css";
import { STEP_STATUS_TONE } from "../_lib/status-tone";

type StepStatus = TaskStepView["status"];

const STATUS_TEXT: Record<StepStatus, string> = {
  running: "running",
  succeeded: "succeeded",
  failed: "failed",
  skipped: "skipped",
};

export function StepIcon({ status }: { status: StepStatus }) {
  const path: Record<StepStatus, string | null> = {
    running: null,
    succeeded: "M3.5 8.5l3 3 6-7",
    failed: "M4.5 4.5l7 7M11.5 4.5l-7 7",
    skipped: "M4.5 8h7",
  };
  const d = path[status];
  return (
    <span className={styles.stepIcon} aria-hidden="true">
      {d && (
        <svg viewBox="0 0 16 16" width="12" height="12" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
          <path d={d} />
        </svg>
      )}
    </span>
  );
}

function StepDuration({ step, live }: { step: TaskStepView; live: boolean }) {
  if (step.status === "skipped") return null;
  if (step.status === "running" && step.endedAt === null) return live ? <LiveDuration startedAt={step.startedAt} /> : null;
  const ms = step.durationMs ?? (step.endedAt ? Date.parse(step.endedAt) - Date.parse(step.startedAt) : null);
  return ms === null ? null : <>{formatDuration(ms)}</>;
}

function StepRow({ step, live, testIdPrefix }: { step: TaskStepView; live: boolean; testIdPrefix: string }) {
  return (
    <li className={styles.step} data-tone={STEP_STATUS_TONE[step.status]} data-testid={`${testIdPrefix}${step.step}`} data-status={step.status}>
      <StepIcon status={step.status} />
      <div className={styles.stepBody}>
        <span className={styles.stepLabel}>
          {step.label}
          <span className="sr-only">, {STATUS_TEXT[step.status]}</span>
        </span>
        {step.detail && <span className={styles.stepDetail}>{step.detail}</span>}
      </div>
      <span className={styles.stepDuration}>
        <StepDuration step={step} live={live} />
      </span>
    </li>
  );
}

/**
 * One row per pipeline step the task entered, in order. `live: false` for an attempt that has
 * ended: a step it left running shows no ticking time. Rows are `step-<step>` for tests unless
 * `testIdPrefix` says otherwise (an earlier attempt's rows must not pass for the current run's).
 */
export function StepTimeline({
  steps,
  waiting,
  live = true,
  testIdPrefix = "step-",
}: {
  steps: TaskStepView[];
  waiting: boolean;
  live?: boolean;
  testIdPrefix?: string;
}) {
  if (steps.length === 0) {
    return <p className="muted placeholder">{waiting ? "Waiting for the pipeline to start…" : "No steps ran."}</p>;
  }
  return (
    <ol className={styles.timeline}>
      {steps.map((step) => (
        <StepRow key={step.step} step={step} live={live} testIdPrefix={testIdPrefix} />
      ))}
    </ol>
  );
}
