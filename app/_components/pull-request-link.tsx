import type { PullRequestView } from "@/lib/contracts/api";
import styles from "./task-view.module.css";
import { PULL_REQUEST_TONE } from "../_lib/status-tone";

const STATE_LABELS: Record<NonNullable<PullRequestView["state"]>, string> = { draft: "Draft", open: "Open", merged: "Merged", closed: "Closed" };

/** The task's pull request as a pill that links to it: its state and number. */
export function PullRequestPill({ pullRequest }: { pullRequest: PullRequestView | null }) {
  if (!pullRequest?.url || !pullRequest.state) return null;
  return (
    <a
      className={`pill ${styles.prPill}`}
      data-tone={PULL_REQUEST_TONE[pullRequest.state]}
      href={pullRequest.url}
      target="_blank"
      rel="noreferrer"
      data-testid="pull-request-pill"
      data-state={pullRequest.state}
      title={`${pullRequest.repository}#${pullRequest.number} on GitHub`}
    >
      <span className={styles.prIcon} aria-hidden="true">
        ⇄
      </span>
      {STATE_LABELS[pullRequest.state]} PR #{pullRequest.number}
    </a>
  );
}

/** The details row: the link and state, or why there is none. */
export function PullRequestDetail({ pullRequest, pushed }: { pullRequest: PullRequestView | null; pushed: boolean }) {
  if (!pullRequest) return <span className="muted">{pushed ? "none (not a GitHub repository: the branch is pushed)" : "—"}</span>;
  return (
    <>
      {pullRequest.url && (
        <a href={pullRequest.url} target="_blank" rel="noreferrer" className="link" data-testid="pull-request-link">
          {pullRequest.repository}#{pullRequest.number}
        </a>
      )}
      {pullRequest.state && <span className="muted"> · {STATE_LABELS[pullRequest.state].toLowerCase()}</span>}
      {pullRequest.error && (
        <span className="field-error" data-testid="pull-request-error">
          {" "}
          {pullRequest.error}
        </span>
      )}
    </>
  );
}
