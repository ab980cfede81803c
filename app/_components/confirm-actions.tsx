"use client";
import type { RefObject } from "react";
import styles from "./confirm.module.css";

/**
 * The two buttons of a destructive confirm step: "Keep it" (focused first, so Enter is safe) and
 * the red action, both disabled while it runs.
 */
export function ConfirmActions(props: {
  keepRef: RefObject<HTMLButtonElement | null>;
  onKeep: () => void;
  onConfirm: () => void;
  busy: boolean;
  label: string;
  busyLabel: string;
  testId?: string;
}) {
  return (
    <div className={styles.confirmActions}>
      <button type="button" ref={props.keepRef} className="button small" onClick={props.onKeep} disabled={props.busy}>
        Keep it
      </button>
      <button type="button" className="button danger-solid small" onClick={props.onConfirm} disabled={props.busy} aria-busy={props.busy} data-testid={props.testId}>
        {props.busy ? props.busyLabel : props.label}
      </button>
    </div>
  );
}
