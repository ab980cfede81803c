"use client";
import { useId, useState } from "react";
import { summaryIsLong } from "../_lib/usage-format";
import { Markdown } from "./markdown";
import styles from "./usage.module.css";

/** The agent's own closing summary of a turn (its final message), as Markdown; a long one shows its first lines until opened. */
export function TurnSummary({ summary }: { summary: string }) {
  const [open, setOpen] = useState(false);
  const textId = useId();
  const long = summaryIsLong(summary);
  const collapsed = long && !open;
  return (
    <div className={styles.summary} data-testid="usage-turn-summary" data-collapsed={collapsed}>
      <span className={styles.summaryLabel}>Agent&apos;s summary</span>
      <div id={textId} className={collapsed ? styles.summaryCollapsed : undefined}>
        <Markdown text={summary} />
      </div>
      {long && (
        <button type="button" className={styles.summaryToggle} aria-expanded={open} aria-controls={textId} onClick={() => setOpen(!open)} data-testid="usage-turn-summary-toggle">
          {open ? "Show less" : "Show all"}
        </button>
      )}
    </div>
  );
}
