import Link from "next/link";
import type { TaskSummary } from "@/lib/contracts/api";
import { bestOfText } from "../_lib/candidates";
import { absoluteTime, firstLine, relativeTime, repositoryName } from "../_lib/format";
import { StatusPill } from "./status-pill";
import { TaskCost } from "./task-cost";
import styles from "./task-list.module.css";

/** One task in the list: a link to its page. */
export function TaskRow({ task, now }: { task: TaskSummary; now: number }) {
  return (
    <li data-testid={`task-row-${task.id}`} data-status={task.status}>
      <Link href={`/tasks/${task.id}`} className={styles.row}>
        <StatusPill status={task.status} />
        <span className={styles.rowMain}>
          <span className="row-title">{firstLine(task.prompt) || "(no description)"}</span>
          <span className={styles.rowMeta}>
            {task.candidates !== undefined && task.candidates > 1 && (
              <span className={styles.rowBestOf} title="Best of N: its agents worked side by side; its page compares them" data-testid="task-row-best-of">
                {bestOfText(task.candidates)}
              </span>
            )}
            <span className={styles.rowRepo} title={task.repository}>
              {repositoryName(task.repository)}
            </span>
            <code className={styles.rowBranch} title={task.branch}>
              {task.branch}
            </code>
          </span>
        </span>
        <span className={styles.rowEnd}>
          <time className="row-time" dateTime={task.createdAt} title={absoluteTime(task.createdAt)}>
            {relativeTime(task.createdAt, now)}
          </time>
          {task.usage && <TaskCost usage={task.usage} />}
        </span>
      </Link>
    </li>
  );
}
