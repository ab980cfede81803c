import { useId } from "react";
import { checkOutcome } from "@/lib/contracts/checks";
import { checkRunState, type CheckBlock, type CheckRunState } from "../_lib/check-blocks";
import { formatDuration } from "../_lib/format";
import { CHECK_RUN_TONE } from "../_lib/status-tone";
import styles from "./checks.module.css";

/** A check's output can run to thousands of lines: the box shows the end, where a failure says why. */
const SHOWN_LINES = 500;

const ICON: Record<Exclude<CheckRunState, "running">, string> = { passed: "✓", failed: "✕", unknown: "–" };

function statusText(check: CheckBlock, state: CheckRunState): string {
  if (state === "running") return "running…";
  if (!check.end) return "no result";
  return `${checkOutcome(check.end)} · ${formatDuration(check.end.durationMs)}`;
}

/**
 * One of the repository's checks in the conversation: its command and how it ended (running until
 * then), pressed, its output. Open by default while it runs or once it failed; `toggled` flips that.
 */
export function CheckBlockView({ check, running, toggled, onToggle }: { check: CheckBlock; running: boolean; toggled: boolean; onToggle: () => void }) {
  const outputId = useId();
  const state = checkRunState(check.end, running);
  const open = (state === "running" || state === "failed") !== toggled;
  const hidden = Math.max(0, check.lines.length - SHOWN_LINES);
  return (
    <div className={styles.block} data-tone={CHECK_RUN_TONE[state]} data-testid="check-block" data-state={state}>
      <button type="button" className={styles.blockLine} aria-expanded={open} aria-controls={outputId} onClick={onToggle}>
        <span className={styles.icon} aria-hidden="true">
          {state === "running" ? <span className={styles.spinner} /> : ICON[state]}
        </span>
        <span className={styles.blockLabel}>Checks</span>
        <code className={styles.blockCommand} title={check.command}>
          {check.command}
        </code>
        {check.of > 1 && (
          <span className={styles.blockCount}>
            {check.index + 1} of {check.of}
          </span>
        )}
        <span className={styles.blockStatus} data-testid="check-block-status">
          {statusText(check, state)}
        </span>
      </button>
      {open && (
        <pre id={outputId} className={styles.output} data-testid="check-block-output">
          {hidden > 0 && `… ${hidden} earlier lines (Download output has them all)\n`}
          {check.lines.length > 0 ? check.lines.slice(hidden).join("\n") : "No output."}
        </pre>
      )}
    </div>
  );
}
