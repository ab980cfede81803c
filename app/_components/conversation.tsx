import type { TaskDetail } from "@/lib/contracts/api";
import { isTerminal } from "../_lib/format";
import { BudgetPause } from "./budget-pause";
import { ConversationLog } from "./conversation-log";
import { CiWait } from "./ci-wait";
import { FollowupWait } from "./followup-wait";
import { MessageForm } from "./message-form";
import { OutputDownload } from "./output-download";
import conversationStyles from "./conversation.module.css";
import followupStyles from "./followup.module.css";

/** What a message sent now does: waits for the budget to be raised or the agent's turn to end, or stops the wait for CI and goes to the agent. */
function messageHint(step: TaskDetail["executionStep"], paused: boolean): string {
  if (paused) return "Ctrl + Enter sends. While a budget holds the task, a message waits until the budget is raised.";
  if (step === "awaiting_followup") return "Ctrl + Enter sends.";
  if (step === "awaiting_ci") return "Ctrl + Enter sends. While CI runs, a message stops the wait for it and goes to the agent.";
  return "Ctrl + Enter sends. While the agent works, a message waits for its turn to end.";
}

/**
 * The task as a conversation: its prompt (turn 1), each follow-up and each agent turn in order (the
 * agent's whole output, read from its CLI's event stream); while the task is open, the wait for a
 * follow-up (or the budget that holds it) and the box to send one.
 */
export function Conversation({ task }: { task: TaskDetail }) {
  const open = !isTerminal(task.status);
  // A budget holds it: the pause (with the idle countdown and Finish now) stands in for the waits below.
  const pause = open && !task.finishRequested ? task.budget.paused : null;
  const waiting = open && !pause && task.executionStep === "awaiting_followup" && task.idleUntil !== null && !task.finishRequested;
  const watchingCi = open && !pause && task.executionStep === "awaiting_ci" && !task.finishRequested;
  return (
    <section className={`card ${conversationStyles.conversationCard}`} aria-labelledby="conversation-heading" data-testid="conversation">
      <div className={conversationStyles.conversationHead}>
        <h2 id="conversation-heading">Conversation</h2>
        {task.output.batches > 0 && <OutputDownload taskId={task.id} attempt={task.attempts.length + 1} testId="output-download" />}
      </div>
      <ConversationLog task={task} />
      {pause && <BudgetPause task={task} pause={pause} />}
      {waiting && task.idleUntil && <FollowupWait taskId={task.id} idleUntil={task.idleUntil} />}
      {watchingCi && <CiWait taskId={task.id} />}
      {open && task.finishRequested && (
        <p className={followupStyles.followupNote} data-testid="followup-finishing">
          Finishing: the task completes once the agent&apos;s turn has ended.
        </p>
      )}
      {open && <MessageForm taskId={task.id} hint={messageHint(task.executionStep, task.budget.paused !== null)} />}
    </section>
  );
}
