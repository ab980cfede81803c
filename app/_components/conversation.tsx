import type { TaskDetail } from "@/lib/contracts/api";
import { isTerminal } from "../_lib/format";
import { ConversationLog } from "./conversation-log";
import { FollowupWait } from "./followup-wait";
import { MessageForm } from "./message-form";
import { OutputDownload } from "./output-download";
import conversationStyles from "./conversation.module.css";
import followupStyles from "./followup.module.css";

/**
 * The task as a conversation: its prompt (turn 1), each follow-up and each agent turn in order (the
 * agent's whole output, read from its CLI's event stream); while the task is open, the wait for a
 * follow-up and the box to send one.
 */
export function Conversation({ task }: { task: TaskDetail }) {
  const open = !isTerminal(task.status);
  const waiting = open && task.executionStep === "awaiting_followup" && task.idleUntil !== null && !task.finishRequested;
  const hint =
    open && task.executionStep !== "awaiting_followup"
      ? "Ctrl + Enter sends. While the agent works, a message waits for its turn to end."
      : "Ctrl + Enter sends.";
  return (
    <section className={`card ${conversationStyles.conversationCard}`} aria-labelledby="conversation-heading" data-testid="conversation">
      <div className={conversationStyles.conversationHead}>
        <h2 id="conversation-heading">Conversation</h2>
        {task.output.batches > 0 && <OutputDownload taskId={task.id} attempt={task.attempts.length + 1} testId="output-download" />}
      </div>
      <ConversationLog task={task} />
      {waiting && task.idleUntil && <FollowupWait taskId={task.id} idleUntil={task.idleUntil} />}
      {open && task.finishRequested && (
        <p className={followupStyles.followupNote} data-testid="followup-finishing">
          Finishing: the task completes once the agent&apos;s turn has ended.
        </p>
      )}
      {open && <MessageForm taskId={task.id} hint={hint} />}
    </section>
  );
}
