import type { Metadata } from "next";
import Link from "next/link";
import { TaskView } from "../../_components/task-view";
import styles from "../../_components/task-view.module.css";

export const metadata: Metadata = { title: "Task" };

export default async function TaskPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <>
      <nav className={styles.crumbs} aria-label="Breadcrumb">
        <Link href="/">← All tasks</Link>
      </nav>
      <TaskView id={id} />
    </>
  );
}
