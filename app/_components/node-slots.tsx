import Link from "next/link";
import type { NodeView } from "@/lib/contracts/api";
import { shortId } from "../_lib/format";
import { STATUS_LABELS } from "./status-pill";
import styles from "./nodes.module.css";

/** "2 of 3", and the tasks holding those slots, each a link to its page. */
export function NodeSlots({ workspaces }: { workspaces: NodeView["workspaces"] }) {
  const full = workspaces.count >= workspaces.capacity;
  return (
    <div data-testid="node-slots" data-count={workspaces.count}>
      <span className={full ? `${styles.slotsCount} ${styles.slotsFull}` : styles.slotsCount}>
        {workspaces.count} of {workspaces.capacity}
      </span>
      {workspaces.tasks.length > 0 ? (
        <ul className={styles.slotTasks}>
          {workspaces.tasks.map((task) => (
            <li key={task.id}>
              <Link href={`/tasks/${task.id}`} title={task.title} data-testid={`node-task-${task.id}`}>
                {task.title || shortId(task.id)}
              </Link>
              <span className="muted"> · {STATUS_LABELS[task.status].toLowerCase()}</span>
            </li>
          ))}
        </ul>
      ) : (
        <span className="muted"> · free</span>
      )}
    </div>
  );
}
