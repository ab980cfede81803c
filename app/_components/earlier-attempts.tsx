import type { TaskAttemptView } from "@/lib/contracts/api";
import { AttemptEntry } from "./attempt-entry";
import styles from "./attempts.module.css";

/** The task's earlier attempts (it was retried), newest first; nothing when it has none. */
export function EarlierAttempts({ taskId, attempts }: { taskId: string; attempts: TaskAttemptView[] }) {
  if (attempts.length === 0) return null;
  return (
    <section className={`card ${styles.attemptsCard}`} aria-labelledby="attempts-heading" data-testid="earlier-attempts">
      <h2 id="attempts-heading">
        Earlier attempts <span className="count">{attempts.length}</span>
      </h2>
      <ol className={styles.attempts}>
        {[...attempts].reverse().map((attempt) => (
          <AttemptEntry key={attempt.attempt} taskId={taskId} attempt={attempt} />
        ))}
      </ol>
    </section>
  );
}
