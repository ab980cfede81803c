import { NewTaskForm } from "./_components/new-task-form";
import { TaskList } from "./_components/task-list";

export default function HomePage() {
  return (
    <div className="home">
      <NewTaskForm />
      <TaskList />
    </div>
  );
}
