import { useMemo, useState } from "react";
import type { TaskAttemptView } from "@/lib/contracts/api";
import { readTurn } from "../_lib/agent-output";
import { AgentItemView } from "./agent-item";
import { OutputDownload } from "./output-download";
import attemptsStyles from "./attempts.module.css";
import conversationStyles from "./conversation.module.css";

const plural = (n: number, word: string) => `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;

/** An earlier attempt's newest output lines, read like the conversation's (folded), and its whole output to download. */
export function AttemptOutput({ taskId, attempt }: { taskId: string; attempt: TaskAttemptView }) {
  const { lines, truncated } = attempt.output;
  const items = useMemo(() => readTurn(lines, { ended: true }), [lines]);
  const [open, setOpen] = useState<ReadonlySet<number>>(() => new Set());
  const toggle = (index: number) =>
    setOpen((was) => {
      const next = new Set(was);
      if (!next.delete(index)) next.add(index);
      return next;
    });
  if (items.length === 0) return <p className={attemptsStyles.attemptNone}>No agent output.</p>;
  return (
    <details className={attemptsStyles.attemptMore}>
      <summary>Agent output · {truncated ? `the newest ${plural(lines.length, "line")}` : plural(lines.length, "line")}</summary>
      <ol className={attemptsStyles.attemptOutput} data-testid={`attempt-${attempt.attempt}-output`}>
        {truncated && <li className={conversationStyles.agentNotice}>… earlier output not shown here; the download has all of it</li>}
        {items.map((item, index) => (
          <li key={index} className={conversationStyles.conversationRow} data-kind={item.kind}>
            <AgentItemView item={item} expanded={open.has(index)} onToggle={() => toggle(index)} />
          </li>
        ))}
      </ol>
      <OutputDownload taskId={taskId} attempt={attempt.attempt} testId={`attempt-${attempt.attempt}-download`} />
    </details>
  );
}
