import { NewTaskForm } from "./_components/new-task-form";
import { TaskList } from "./_components/task-list";
import styles from "./_components/task-list.module.css";

export default function HomePage() {
  return (
    <div className={styles.home}>
      <h1 className="sr-only">Tasks</h1>
      <NewTaskForm />
      <TaskList />
    </div>
  );
}
