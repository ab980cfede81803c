"use client";
import Link from "next/link";
import type { TaskDetail } from "@/lib/contracts/api";
import { isNotFound } from "../_lib/api";
import { firstLine, isRetryable, isTerminal } from "../_lib/format";
import { useLiveTask, type LiveConnection } from "../_lib/live";
import { useTask } from "../_lib/queries";
import { BootLog } from "./boot-log";
import { CandidateComparison } from "./candidate-comparison";
import { CancelButton } from "./cancel-button";
import { ChecksCard } from "./checks-card";
import { CiCard } from "./ci-card";
import { Conversation } from "./conversation";
import { DiffCard } from "./diff-card";
import { EarlierAttempts } from "./earlier-attempts";
import { ErrorBanner } from "./error-banner";
import { HeldWork } from "./held-work";
import { LiveIndicator } from "./live-indicator";
import { PullRequestPill } from "./pull-request-link";
import { RetryButton } from "./retry-button";
import { StatusPill } from "./status-pill";
import { StepTimeline } from "./step-timeline";
import { TaskMeta } from "./task-meta";
import { networkNeedsAttention, TaskNetwork } from "./task-network";
import { UsageCard } from "./usage-card";
import styles from "./task-view.module.css";

function TaskHeader({ task, connection }: { task: TaskDetail; connection: LiveConnection }) {
  const candidate = task.group?.candidates.find((c) => c.taskId === task.id);
  return (
    <header className={styles.taskHead}>
      <div className={styles.taskHeadMain}>
        <h1>{firstLine(task.prompt) || "Task"}</h1>
        <div className={styles.taskHeadMeta}>
          <StatusPill status={task.status} />
          {task.attempts.length > 0 && (
            <span className={styles.attemptTag} data-testid="task-attempt" title="This run; the earlier attempts are below">
              Attempt {task.attempts.length + 1}
            </span>
          )}
          {candidate && (
            <span className={styles.attemptTag} data-testid="task-candidate" title="Best of N: this task is one of the candidates compared above">
              Candidate {candidate.candidate} of {task.group?.size}
            </span>
          )}
          <PullRequestPill pullRequest={task.pullRequest} />
          <LiveIndicator connection={connection} />
        </div>
      </div>
      {!isTerminal(task.status) && <CancelButton taskId={task.id} />}
      {/* Keyed by attempt: once the retry shows, a task that fails again gets a fresh button. */}
      {isRetryable(task.status) && <RetryButton key={task.attempts.length} taskId={task.id} />}
    </header>
  );
}

function TaskBody({ task, connection }: { task: TaskDetail; connection: LiveConnection }) {
  // A failed task with refused connections shows its network up top: a refused install is a likely cause.
  const networkFirst = networkNeedsAttention(task);
  return (
    <article>
      <TaskHeader task={task} connection={connection} />
      <CandidateComparison task={task} />
      {task.error && (
        <ErrorBanner title={task.status === "cancelled" ? "Cancelled" : "The task failed"} testId="task-error">
          {task.error}
        </ErrorBanner>
      )}
      <HeldWork task={task} />
      {networkFirst && <TaskNetwork task={task} />}
      <Conversation task={task} />
      <DiffCard task={task} />
      <div className={styles.taskGrid}>
        <section className="card" aria-labelledby="timeline-heading">
          <h2 id="timeline-heading">Pipeline</h2>
          <StepTimeline steps={task.steps} waiting={!isTerminal(task.status)} />
          <BootLog boot={task.bootLog} live={!isTerminal(task.status)} />
        </section>
        <div className={styles.taskSide}>
          <section className="card" aria-labelledby="details-heading">
            <h2 id="details-heading">Details</h2>
            <TaskMeta task={task} />
            <details className={styles.prompt}>
              <summary>Full task</summary>
              <pre>{task.prompt}</pre>
            </details>
          </section>
          <ChecksCard task={task} />
          <CiCard task={task} />
          <UsageCard task={task} />
          {!networkFirst && <TaskNetwork task={task} />}
        </div>
      </div>
      <EarlierAttempts taskId={task.id} attempts={task.attempts} />
    </article>
  );
}

/** The task page's content: the task, live. */
export function TaskView({ id }: { id: string }) {
  const { data: task, error, isPending } = useTask(id);
  const missing = isNotFound(error);
  const connection = useLiveTask(id, { enabled: !missing });

  if (task) return <TaskBody task={task} connection={connection} />;
  if (missing) {
    return (
      <div className={`card ${styles.notice}`}>
        <h1>Task not found</h1>
        <p className="muted">There is no task with the id <code>{id}</code>.</p>
        <Link href="/" className="button">
          Back to all tasks
        </Link>
      </div>
    );
  }
  if (error) return <ErrorBanner title="Could not load the task.">{error.message}</ErrorBanner>;
  return (
    <p className="muted placeholder" aria-busy={isPending}>
      Loading task…
    </p>
  );
}
