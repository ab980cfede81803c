"use client";
import { useLiveTasks } from "../_lib/live";
import { useTasks } from "../_lib/queries";
import { useNow } from "../_lib/use-now";
import { ErrorBanner } from "./error-banner";
import { LiveIndicator } from "./live-indicator";
import { TaskRow } from "./task-row";

/** Every task, newest first, kept current by the live stream. */
export function TaskList() {
  const { data, error, isPending } = useTasks();
  const connection = useLiveTasks();
  const now = useNow(30_000);
  const tasks = data?.tasks ?? [];

  return (
    <section className="card" aria-labelledby="tasks-heading" aria-busy={isPending}>
      <div className="list-head">
        <h2 id="tasks-heading">
          Tasks {data && <span className="count">{tasks.length}</span>}
        </h2>
        <LiveIndicator connection={connection} />
      </div>
      {error && !data && <ErrorBanner title="Could not load tasks.">{error.message}</ErrorBanner>}
      {isPending && !error && <p className="muted placeholder">Loading tasks…</p>}
      {data && tasks.length === 0 && (
        <div className="empty">
          <p className="empty-title">No tasks yet</p>
          <p>Start one with the form; it appears here and updates live.</p>
        </div>
      )}
      <ul className="rows" data-testid="task-list">
        {tasks.map((task) => (
          <TaskRow key={task.id} task={task} now={now} />
        ))}
      </ul>
    </section>
  );
}
