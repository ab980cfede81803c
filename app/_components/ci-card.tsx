import type { TaskCiView, TaskDetail } from "@/lib/contracts/api";
import { roundText, summarySentence } from "../_lib/checks-view";
import { ciChecksCount, ciExcerptOpen } from "../_lib/ci-view";
import { absoluteTime, shortSha } from "../_lib/format";
import { CI_STATE_LOOK, pillAttributes } from "../_lib/status-tone";
import { CiCheckRow } from "./ci-check";
import styles from "./ci.module.css";

/** The end of each failing job's log, as the agent was shown it: open while CI fails. Keyed by commit, so a new failure opens again. */
function FailureLog({ ci }: { ci: TaskCiView }) {
  const { excerpt } = ci.result;
  if (!excerpt) return null;
  return (
    <details className={styles.excerpt} open={ciExcerptOpen(ci.state)} data-testid="ci-excerpt">
      <summary className={styles.excerptLine}>
        <span className={styles.excerptLabel}>Failure log</span>
        <span className={styles.excerptNote}>the failing jobs&apos; log ends, as the agent was shown them</span>
      </summary>
      <pre className={styles.output} data-testid="ci-excerpt-output">
        {excerpt}
      </pre>
    </details>
  );
}

/**
 * The task's pull request CI on the newest commit the run watched: how it stands in words (its
 * tone: running, passed, being fixed, failing, none, no longer watched), the round, the commit, each
 * check run and status with its page, and the failing jobs' log. Hidden until a commit was watched.
 */
export function CiCard({ task }: { task: TaskDetail }) {
  const { ci } = task;
  if (!ci) return null;
  const { result } = ci;
  return (
    <section className="card" aria-labelledby="ci-heading" data-testid="task-ci" data-state={ci.state}>
      <h2 id="ci-heading">Pull request CI</h2>
      <p className={styles.summary} {...pillAttributes(CI_STATE_LOOK[ci.state])} aria-live="polite" data-testid="ci-summary">
        <span className={styles.summaryDot} aria-hidden="true" />
        {summarySentence(ci.summary)}
      </p>
      <dl className={`facts ${styles.facts}`}>
        <dt>Round</dt>
        <dd data-testid="ci-round" title="A failed round sends the agent the failing checks and their logs, up to the last round; then the task waits for you">
          {roundText(ci)}
        </dd>
        <dt>Commit</dt>
        <dd>
          <code className={styles.commit} title={result.headCommit} data-testid="ci-commit">
            {shortSha(result.headCommit)}
          </code>
          <span className="muted"> · turn {ci.turn}</span>
        </dd>
        <dt>Checked</dt>
        <dd>
          <time dateTime={result.checkedAt}>{absoluteTime(result.checkedAt)}</time>
          {result.checks.length > 0 && <span className="muted"> · {ciChecksCount(result.checks)}</span>}
        </dd>
      </dl>
      {result.error && (
        <p className={styles.error} data-testid="ci-error">
          {result.error}
        </p>
      )}
      {result.checks.length > 0 && (
        <ul className={styles.checks} aria-label="Checks on the commit">
          {result.checks.map((check, index) => (
            <CiCheckRow key={`${check.kind}-${check.name}-${index}`} check={check} />
          ))}
        </ul>
      )}
      <FailureLog key={result.headCommit} ci={ci} />
    </section>
  );
}
