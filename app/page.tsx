import { config } from "@/lib/config";
import { NewTaskForm } from "./_components/new-task-form";
import { TaskList } from "./_components/task-list";
import styles from "./_components/task-list.module.css";

// Per request: the form's budget placeholder is the configured TASK_BUDGET_USD, read at start, not at build.
export const dynamic = "force-dynamic";

export default function HomePage() {
  return (
    <div className={styles.home}>
      <h1 className="sr-only">Tasks</h1>
      <NewTaskForm defaultBudgetUsd={config().TASK_BUDGET_USD} />
      <TaskList />
    </div>
  );
}
