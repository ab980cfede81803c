import type { TaskDetail, TaskMessageView } from "@/lib/contracts/api";
import { absoluteTime, isTerminal } from "../_lib/format";
import { ConversationEntry } from "./conversation-entry";
import { FollowupWait } from "./followup-wait";
import { MessageForm } from "./message-form";

function messageState(message: TaskMessageView) {
  if (message.status === "queued") return "queued — delivered when the agent's turn ends";
  return (
    <span title={message.deliveredAt ? `Delivered ${absoluteTime(message.deliveredAt)}` : undefined}>
      delivered · turn {message.turn}
    </span>
  );
}

/**
 * The task as a conversation: its prompt (turn 1), then each follow-up in order with where it
 * stands; while the task is open, the wait for a follow-up and the box to send one.
 */
export function Conversation({ task }: { task: TaskDetail }) {
  const open = !isTerminal(task.status);
  const waiting = open && task.executionStep === "awaiting_followup" && task.idleUntil !== null && !task.finishRequested;
  const hint =
    open && task.executionStep !== "awaiting_followup"
      ? "Ctrl + Enter sends. While the agent works, a message waits for its turn to end."
      : "Ctrl + Enter sends.";
  return (
    <section className="card conversation-card" aria-labelledby="conversation-heading" data-testid="conversation">
      <h2 id="conversation-heading">Conversation</h2>
      <ol className="turns">
        <ConversationEntry who="Task" state="turn 1" body={task.prompt} testId="conversation-prompt" />
        {task.messages.map((message) => (
          <ConversationEntry
            key={message.id}
            who="Follow-up"
            state={messageState(message)}
            body={message.body}
            queued={message.status === "queued"}
            testId="conversation-message"
            data={{ "data-status": message.status, "data-turn": message.turn ?? "" }}
          />
        ))}
      </ol>
      {waiting && task.idleUntil && <FollowupWait taskId={task.id} idleUntil={task.idleUntil} />}
      {open && task.finishRequested && (
        <p className="followup-note" data-testid="followup-finishing">
          Finishing: the task completes once the agent&apos;s turn has ended.
        </p>
      )}
      {open && <MessageForm taskId={task.id} hint={hint} />}
    </section>
  );
}
