import { taskOutputDownloadUrl } from "../_lib/api";
import styles from "./conversation.module.css";

/** Links that download an attempt's whole output: as the agent wrote it, or as JSON lines with their turns. */
export function OutputDownload({ taskId, attempt, testId }: { taskId: string; attempt: number; testId: string }) {
  return (
    <span className={styles.outputDownload}>
      <a className="button small" href={taskOutputDownloadUrl(taskId, attempt, "text")} download data-testid={testId}>
        Download output
      </a>
      <a className={styles.outputDownloadAlt} href={taskOutputDownloadUrl(taskId, attempt, "ndjson")} download title="One JSON object a line, with its turn">
        NDJSON
      </a>
    </span>
  );
}
