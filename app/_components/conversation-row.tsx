import type { TaskMessageView } from "@/lib/contracts/api";
import type { ConversationRow } from "../_lib/conversation-rows";
import { absoluteTime } from "../_lib/format";
import { AgentItemView } from "./agent-item";
import { CheckBlockView } from "./check-block";
import { ConversationEntry } from "./conversation-entry";
import styles from "./conversation.module.css";

/** Who wrote a follow-up: the person, or the system after a turn's checks or its pull request's CI failed, or a raised budget resumed the agent. */
const AUTHOR_LABEL: Record<TaskMessageView["author"], string> = { person: "Follow-up", checks: "Checks", ci: "CI", budget: "Budget" };

function messageState(message: TaskMessageView, earlier: boolean) {
  if (message.status === "queued") return "queued — delivered when the agent's turn ends";
  return (
    <span title={message.deliveredAt ? `Delivered ${absoluteTime(message.deliveredAt)}` : undefined}>
      delivered · turn {message.turn}
      {earlier && " of an earlier attempt"}
    </span>
  );
}

/** One row of the conversation: a message, the start of an agent turn, one of its entries, or a check after it. */
export function ConversationRowView({ row, expanded, onToggle }: { row: ConversationRow; expanded: boolean; onToggle: () => void }) {
  switch (row.kind) {
    case "prompt":
      return <ConversationEntry who="Task" state="turn 1" body={row.text} testId="conversation-prompt" />;
    case "message":
      return (
        <ConversationEntry
          // The system's follow-up after failed checks or CI is told apart from the person's.
          who={AUTHOR_LABEL[row.message.author]}
          fromSystem={row.message.author !== "person"}
          state={messageState(row.message, row.earlier)}
          body={row.message.body}
          queued={row.message.status === "queued"}
          testId="conversation-message"
          data={{ "data-status": row.message.status, "data-turn": row.message.turn ?? "", "data-author": row.message.author }}
        />
      );
    case "agent":
      return (
        <p className={styles.agentTurn} data-testid="agent-turn" data-turn={row.turn} data-working={row.working}>
          <span className={styles.agentTurnWho}>Agent</span> · turn {row.turn}
          {row.working && <span className={styles.agentTurnWorking}> · working</span>}
        </p>
      );
    case "item":
      return <AgentItemView item={row.item} expanded={expanded} onToggle={onToggle} />;
    case "check":
      return <CheckBlockView check={row.check} running={row.running} toggled={expanded} onToggle={onToggle} />;
  }
}
