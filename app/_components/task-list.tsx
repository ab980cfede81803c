"use client";
import Link from "next/link";
import { useEffect, useState } from "react";
import { firstLine, relativeTime, repositoryName } from "../_lib/format";
import { useLiveTasks } from "../_lib/live";
import { ConnectionBadge } from "./connection-badge";
import { StatusPill } from "./status-pill";

export function TaskList() {
  const { data, error, isPending, connection } = useLiveTasks();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);

  return (
    <section className="card list" aria-labelledby="tasks-heading">
      <div className="list-head">
        <h2 id="tasks-heading">Tasks</h2>
        <ConnectionBadge connection={connection} />
      </div>
      {error && (
        <p className="banner banner-error" role="alert">
          Could not load tasks: {error.message}
        </p>
      )}
      {isPending && !error && <p className="muted">Loading…</p>}
      {data && data.tasks.length === 0 && <p className="empty">No tasks yet. Start one to see it here, live.</p>}
      <ul className="rows" data-testid="task-list">
        {data?.tasks.map((task) => (
          <li key={task.id} data-testid={`task-row-${task.id}`}>
            <Link href={`/tasks/${task.id}`} className="row">
              <StatusPill status={task.status} />
              <span className="row-main">
                <span className="row-title">{firstLine(task.prompt)}</span>
                <span className="row-meta">
                  <span>{repositoryName(task.repository)}</span>
                  <code>{task.branch}</code>
                </span>
              </span>
              <time className="row-time" dateTime={task.createdAt}>
                {relativeTime(task.createdAt, now)}
              </time>
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}
