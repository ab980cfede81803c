import type { AgentItem } from "../_lib/agent-output";
import { Markdown } from "./markdown";
import { ToolCallView } from "./tool-call";
import styles from "./conversation.module.css";

/** One entry of an agent's turn, as its kind is shown; `expanded` and `onToggle` open a tool call. */
export function AgentItemView({ item, expanded, onToggle }: { item: AgentItem; expanded: boolean; onToggle: () => void }) {
  switch (item.kind) {
    case "text":
      return <Markdown text={item.text} />;
    case "reasoning":
      return (
        <div className={styles.agentReasoning}>
          <span className={styles.agentReasoningLabel}>Thinking</span>
          <Markdown text={item.text} />
        </div>
      );
    case "tool":
      return <ToolCallView call={item.call} expanded={expanded} onToggle={onToggle} />;
    case "error":
      return (
        <p className={styles.agentError} data-testid="agent-error">
          <strong>Error</strong> {item.text}
        </p>
      );
    case "notice":
      return <p className={styles.agentNotice}>{item.text}</p>;
    case "line":
      return <pre className={styles.agentLine}>{item.text}</pre>;
  }
}
