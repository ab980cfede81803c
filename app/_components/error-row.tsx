import Link from "next/link";
import { STEP_LABELS, ExecutionStep, type ErrorView } from "@/lib/contracts/api";
import { absoluteTime, relativeTime, shortId } from "../_lib/format";
import { ErrorKindBadge } from "./error-kind-badge";
import styles from "./errors.module.css";

/** "workspace_ready" → "Workspace ready"; other steps ("node_health") spelled out the same way. */
function stepLabel(step: string) {
  const known = ExecutionStep.safeParse(step);
  if (known.success) return STEP_LABELS[known.data];
  const words = step.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** One recorded error: its kind, message, step, and links to its task and node. */
export function ErrorRow({ error, now }: { error: ErrorView; now: number }) {
  return (
    <li className={styles.errorRow} data-testid={`error-${error.id}`} data-kind={error.kind}>
      <ErrorKindBadge kind={error.kind} />
      <div className={styles.errorMain}>
        <p className={styles.errorMessage}>{error.message}</p>
        <p className={styles.errorMeta}>
          {error.step && <span className={styles.errorStep}>{stepLabel(error.step)}</span>}
          {error.taskId && (
            <Link href={`/tasks/${error.taskId}`} className={styles.errorLink} title={error.taskId} data-testid="error-task-link">
              Task: {error.taskTitle || shortId(error.taskId)}
            </Link>
          )}
          {error.nodeId && (
            <Link href={`/nodes#node-${error.nodeId}`} className={styles.errorLink} title={error.nodeId}>
              Node <code>{shortId(error.nodeId)}</code>
            </Link>
          )}
          {error.workspaceId && (
            <span title={error.workspaceId}>
              Workspace <code>{shortId(error.workspaceId)}</code>
            </span>
          )}
        </p>
      </div>
      <time className="row-time" dateTime={error.createdAt} title={absoluteTime(error.createdAt)}>
        {relativeTime(error.createdAt, now)}
      </time>
    </li>
  );
}
