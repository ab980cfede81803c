import { NewTaskForm } from "./_components/new-task-form";
import { TaskList } from "./_components/task-list";

export default function HomePage() {
  return (
    <div className="home">
      <h1 className="sr-only">Tasks</h1>
      <NewTaskForm />
      <TaskList />
    </div>
  );
}
