import Link from "next/link";
import type { ReactNode } from "react";
import { STEP_LABELS, type TaskDetail } from "@/lib/contracts/api";
import { absoluteTime, isTerminal, shortId } from "../_lib/format";
import { PullRequestDetail } from "./pull-request-link";
import styles from "./task-view.module.css";

function Row({ term, children }: { term: string; children: ReactNode }) {
  return (
    <>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </>
  );
}

/** Where and how the task runs: repository, agent, branch, commit, node, workspace. */
export function TaskMeta({ task }: { task: TaskDetail }) {
  return (
    <dl className="meta">
      <Row term="Status">
        <code data-testid="task-status" data-status={task.status}>
          {task.status}
        </code>
        {task.executionStep && !isTerminal(task.status) && (
          <span className="muted"> · {STEP_LABELS[task.executionStep]}</span>
        )}
      </Row>
      <Row term="Repository">
        <span className="mono break">{task.repository}</span>
      </Row>
      <Row term="Agent">
        {task.agent}
        {task.model && (
          <span className="muted">
            {" "}
            · <code data-testid="task-model">{task.model}</code>
          </span>
        )}
      </Row>
      <Row term="Branch">
        <code className="break" data-testid="task-branch">
          {task.branch}
        </code>
        {task.baseBranch && (
          <span className="muted">
            {" "}
            from <code data-testid="task-base-branch">{task.baseBranch}</code>
          </span>
        )}
      </Row>
      <Row term="Commit">
        {/* The text is the full sha (copyable, testable); CSS shows its first 7 characters. */}
        <code className="sha" data-testid="task-commit" title={task.commit ?? undefined}>
          {task.commit ?? ""}
        </code>
      </Row>
      <Row term="Pushed">
        {task.pushed ? "yes" : "no"}
        {!task.pushed && task.session?.error && (
          <span className="field-error" data-testid="task-push-error">
            {" "}
            {task.session.error}; {task.heldWork ? "the commit is kept on the node until you decide (above)" : "the commit stays on its node"}
          </span>
        )}
      </Row>
      <Row term="Pull request">
        <PullRequestDetail pullRequest={task.pullRequest} pushed={task.pushed} />
      </Row>
      <Row term="Node">
        {task.node ? (
          <>
            <Link href={`/nodes#node-${task.node.id}`} className="link" title={`${task.node.id} on the nodes page`}>
              <code>{shortId(task.node.id)}</code>
            </Link>{" "}
            <span className="muted">
              {task.node.provider} · {task.node.status}
            </span>
          </>
        ) : (
          <span className="muted">—</span>
        )}
      </Row>
      <Row term="Workspace">
        {task.workspace ? (
          <>
            <code title={task.workspace.id}>{shortId(task.workspace.id)}</code>{" "}
            <span className="muted">{task.workspace.status}</span>
            {task.workspace.error && <span className={styles.metaError}>{task.workspace.error}</span>}
          </>
        ) : (
          <span className="muted">—</span>
        )}
      </Row>
      <Row term="Created">
        <time dateTime={task.createdAt}>{absoluteTime(task.createdAt)}</time>
      </Row>
    </dl>
  );
}
