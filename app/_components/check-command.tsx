import type { CheckCommandResult } from "@/lib/contracts/checks";
import { checkOutcome } from "@/lib/contracts/checks";
import { commandFailed } from "../_lib/checks-view";
import { formatDuration } from "../_lib/format";
import styles from "./checks.module.css";

/** One command of the checks: its result and duration; opened, the end of its output (open when it failed). */
export function CheckCommand({ command }: { command: CheckCommandResult }) {
  const failed = commandFailed(command);
  return (
    <li className={styles.command} data-tone={failed ? "bad" : "good"} data-testid="checks-command" data-failed={failed}>
      <details open={failed}>
        <summary className={styles.commandLine}>
          <span className={styles.icon} aria-hidden="true">
            {failed ? "✕" : "✓"}
          </span>
          <code className={styles.commandText}>{command.command}</code>
          <span className={styles.commandResult}>
            <span className={styles.commandOutcome} data-testid="checks-command-outcome">
              {checkOutcome(command)}
            </span>
            <span className={styles.commandDuration}>{formatDuration(command.durationMs)}</span>
          </span>
        </summary>
        <pre className={styles.output} data-testid="checks-command-output">
          {command.outputTail || "No output."}
        </pre>
      </details>
    </li>
  );
}
