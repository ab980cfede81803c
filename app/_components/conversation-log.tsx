import { useMemo } from "react";
import type { TaskDetail } from "@/lib/contracts/api";
import { conversationRows } from "../_lib/conversation-rows";
import { isTerminal } from "../_lib/format";
import { useTaskOutput } from "../_lib/task-output";
import { ConversationScroller } from "./conversation-scroller";
import styles from "./conversation.module.css";

/** The agent is at work on its newest turn: a tool call without its result may still get one. */
const agentWorking = (task: TaskDetail) => !isTerminal(task.status) && (task.executionStep === "agent_session" || task.executionStep === "running");

/** The person's messages and the agent's whole output of the current attempt, turn by turn. */
export function ConversationLog({ task }: { task: TaskDetail }) {
  const attempt = task.attempts.length + 1;
  const output = useTaskOutput(task.id, attempt, task.output.batches);
  const batches = output.data?.batches;
  const working = agentWorking(task);
  const { prompt, messages } = task;
  const retried = task.attempts.length > 0;
  const sessionStartedAt = task.session?.startedAt ?? null;
  const rows = useMemo(
    () => conversationRows({ prompt, messages, batches: batches ?? [], retried, sessionStartedAt, working }),
    [prompt, messages, batches, retried, sessionStartedAt, working],
  );
  return (
    <>
      <ConversationScroller rows={rows} />
      {output.isPending && task.output.batches > 0 && <p className={styles.conversationNote}>Loading the agent&apos;s output…</p>}
      {output.isError && (
        <p className={`${styles.conversationNote} ${styles.conversationNoteError}`} data-testid="output-error">
          Could not read the agent&apos;s output: {output.error.message}{" "}
          <button type="button" className="button small" onClick={() => void output.refetch()}>
            Try again
          </button>
        </p>
      )}
    </>
  );
}
