"use client";
import "react-diff-view/style/index.css";
import { useMemo } from "react";
import { parseDiff, type FileData } from "react-diff-view";
import type { TaskDetail, TaskDiffSummary } from "@/lib/contracts/api";
import { useTaskDiff } from "../_lib/queries";
import { DiffFile } from "./diff-file";
import styles from "./diff.module.css";

/** Files past this many are listed closed, so a large change does not render all at once. */
const OPEN_FILES = 8;

function byPath(files: FileData[]) {
  const map = new Map<string, FileData>();
  for (const file of files) map.set(file.type === "delete" ? file.oldPath : file.newPath, file);
  return map;
}

function DiffFiles({ taskId, summary }: { taskId: string; summary: TaskDiffSummary }) {
  const { data, error, isPending } = useTaskDiff(taskId, summary.head);
  const parsed = useMemo(() => (data ? byPath(parseDiff(data.patch)) : undefined), [data]);
  if (error) return <p className="field-error">Could not load the diff: {error.message}</p>;
  return (
    <div className={styles.diffFiles} aria-busy={isPending}>
      {summary.files.map((stat, index) => (
        <DiffFile key={stat.path} stat={stat} file={parsed?.get(stat.path)} open={index < OPEN_FILES && stat.added !== null} cut={summary.truncated && !!parsed && !parsed.has(stat.path)} />
      ))}
    </div>
  );
}

/** What the agent changed against the base branch, as of its newest turn; kept after cleanup. */
export function DiffCard({ task }: { task: TaskDetail }) {
  const summary = task.diff;
  if (!summary) return null;
  return (
    <section className={`card ${styles.diffCard}`} aria-labelledby="diff-heading" data-testid="task-diff">
      <div className={styles.diffHead}>
        <h2 id="diff-heading">Changes</h2>
        <p className="muted" data-testid="diff-summary">
          {summary.files.length} {summary.files.length === 1 ? "file" : "files"} changed, <span className={styles.diffAdded}>+{summary.added}</span> <span className={styles.diffRemoved}>−{summary.removed}</span> against{" "}
          <code>{task.baseBranch ?? summary.base.slice(0, 7)}</code> · after turn {summary.turn}
        </p>
      </div>
      {summary.truncated && <p className={`muted ${styles.diffNote}`}>The diff is larger than the node&apos;s limit (DIFF_MAX_BYTES): the files past it show their counts only.</p>}
      {summary.files.length === 0 ? <p className="muted">No changes against the base branch.</p> : <DiffFiles taskId={task.id} summary={summary} />}
    </section>
  );
}
