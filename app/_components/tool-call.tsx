import { useId } from "react";
import type { ToolCall, ToolStatus } from "../_lib/agent-output";
import styles from "./tool-call.module.css";
import { TOOL_STATUS_TONE } from "../_lib/status-tone";

const STATUS: Record<ToolStatus, { icon: string; label: string }> = {
  ok: { icon: "✓", label: "ok" },
  failed: { icon: "✕", label: "failed" },
  running: { icon: "•", label: "running" },
};

/** One tool call on one line (tool, what it acts on, status); pressed, it shows its input and result. */
export function ToolCallView({ call, expanded, onToggle }: { call: ToolCall; expanded: boolean; onToggle: () => void }) {
  const detailId = useId();
  const { icon, label } = STATUS[call.status];
  return (
    <div className={styles.toolCall} data-tone={TOOL_STATUS_TONE[call.status]} data-testid="tool-call" data-status={call.status}>
      <button type="button" className={styles.toolCallLine} aria-expanded={expanded} aria-controls={detailId} onClick={onToggle}>
        <span className={styles.toolCallIcon} aria-hidden="true">
          {icon}
        </span>
        <span className={styles.toolCallName}>{call.name}</span>
        <span className={styles.toolCallSubject} title={call.subject}>
          {call.subject}
        </span>
        <span className={styles.toolCallStatus}>{label}</span>
      </button>
      {expanded && (
        <div id={detailId} className={styles.toolCallDetail} data-testid="tool-call-detail">
          {call.input && (
            <>
              <h4>Input</h4>
              <pre>{call.input}</pre>
            </>
          )}
          <h4>Result</h4>
          <pre>{call.result ?? "No result yet."}</pre>
        </div>
      )}
    </div>
  );
}
