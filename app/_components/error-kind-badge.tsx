import type { ErrorKind } from "@/lib/contracts/api";
import { ERROR_KIND_TONE } from "../_lib/status-tone";
import styles from "./errors.module.css";

export const KIND_LABELS: Record<ErrorKind, string> = {
  failure: "Failure",
  recovery: "Recovery",
  stuck: "Stuck",
  orphan: "Orphan",
  cleanup: "Cleanup",
};

export const KIND_DESCRIPTIONS: Record<ErrorKind, string> = {
  failure: "A permanent failure: the task failed with this reason",
  recovery: "Something was re-driven, restarted or moved, and why",
  stuck: "A task made no progress in a step past its limit",
  orphan: "A workspace or node that belongs to no live task",
  cleanup: "A cleanup that failed and is retried",
};

/** The kind of a recorded error, as a small coloured badge. */
export function ErrorKindBadge({ kind }: { kind: ErrorKind }) {
  return (
    <span className={styles.kind} data-tone={ERROR_KIND_TONE[kind]} data-testid="kind-badge" title={KIND_DESCRIPTIONS[kind]} data-kind={kind}>
      {KIND_LABELS[kind]}
    </span>
  );
}
