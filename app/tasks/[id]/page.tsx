import Link from "next/link";
import { TaskView } from "../../_components/task-view";

export default async function TaskPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <>
      <nav className="crumbs">
        <Link href="/">← All tasks</Link>
      </nav>
      <TaskView id={id} />
    </>
  );
}
