"use client";
import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { cancelTask } from "../_lib/api";
import { firstLine, TERMINAL } from "../_lib/format";
import { useLiveTask } from "../_lib/live";
import { ConnectionBadge } from "./connection-badge";
import { StatusPill } from "./status-pill";
import { StepTimeline } from "./step-timeline";

export function TaskView({ id }: { id: string }) {
  const { data: task, error, connection } = useLiveTask(id);
  const client = useQueryClient();
  const [cancelling, setCancelling] = useState(false);

  if (error) {
    return (
      <p className="banner banner-error" role="alert">
        {error.message}
      </p>
    );
  }
  if (!task) return <p className="muted">Loading…</p>;

  async function onCancel() {
    setCancelling(true);
    await cancelTask(id);
    await client.invalidateQueries({ queryKey: ["task", id] });
    setCancelling(false);
  }

  const active = !TERMINAL.includes(task.status);
  return (
    <article className="task">
      <header className="task-head">
        <div>
          <h1>{firstLine(task.prompt)}</h1>
          <div className="task-head-meta">
            <StatusPill status={task.status} testId="task-status" />
            <ConnectionBadge connection={connection} />
          </div>
        </div>
        {active && (
          <button type="button" className="button danger" onClick={onCancel} disabled={cancelling}>
            {cancelling ? "Cancelling…" : "Cancel"}
          </button>
        )}
      </header>

      {task.error && (
        <div className="banner banner-error" role="alert" data-testid="task-error">
          <strong>Failed: </strong>
          {task.error}
        </div>
      )}

      <div className="task-grid">
        <section className="card" aria-labelledby="timeline-heading">
          <h2 id="timeline-heading">Pipeline</h2>
          <StepTimeline steps={task.steps} />
        </section>
        <section className="card" aria-labelledby="details-heading">
          <h2 id="details-heading">Details</h2>
          <dl className="meta">
            <dt>Repository</dt>
            <dd className="mono break">{task.repository}</dd>
            <dt>Agent</dt>
            <dd>{task.agent}</dd>
            <dt>Branch</dt>
            <dd className="mono break" data-testid="task-branch">
              {task.branch}
            </dd>
            <dt>Commit</dt>
            <dd className="mono" data-testid="task-commit" title={task.commit ?? undefined}>
              {task.commit ? task.commit.slice(0, 12) : "—"}
            </dd>
            <dt>Pushed</dt>
            <dd>{task.commit ? (task.pushed ? "yes" : "no") : "—"}</dd>
            <dt>Node</dt>
            <dd className="mono">{task.node ? `${task.node.id.slice(0, 14)}… (${task.node.provider}, ${task.node.status})` : "—"}</dd>
            <dt>Workspace</dt>
            <dd className="mono">{task.workspace ? `${task.workspace.id.slice(0, 14)}… (${task.workspace.status})` : "—"}</dd>
          </dl>
          <details className="prompt">
            <summary>Full prompt</summary>
            <pre>{task.prompt}</pre>
          </details>
        </section>
      </div>
    </article>
  );
}
