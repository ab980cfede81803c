import type { ReactNode } from "react";
import styles from "./conversation.module.css";

/** One message of the conversation: who sent it, where it stands, and its text as written. */
export function ConversationEntry(props: {
  who: string;
  state: ReactNode;
  body: string;
  queued?: boolean;
  testId: string;
  data?: Record<`data-${string}`, string | number>;
}) {
  return (
    <div className={props.queued ? `${styles.turn} ${styles.turnQueued}` : styles.turn} data-testid={props.testId} {...props.data}>
      <div className={styles.turnHead}>
        <span className={styles.turnWho}>{props.who}</span>
        <span className={styles.turnState}>{props.state}</span>
      </div>
      <p className={styles.turnBody}>{props.body}</p>
    </div>
  );
}
