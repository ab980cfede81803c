import type { ReactNode } from "react";
import { Markdown } from "./markdown";
import styles from "./conversation.module.css";

/**
 * One message of the conversation: who sent it, where it stands, and its text. A person's text is
 * shown as written; the system's (`fromSystem`: failed checks or CI) is Markdown with code blocks.
 */
export function ConversationEntry(props: {
  who: string;
  state: ReactNode;
  body: string;
  queued?: boolean;
  fromSystem?: boolean;
  testId: string;
  data?: Record<`data-${string}`, string | number>;
}) {
  const className = [styles.turn, props.queued && styles.turnQueued, props.fromSystem && styles.turnSystem].filter(Boolean).join(" ");
  return (
    <div className={className} data-testid={props.testId} {...props.data}>
      <div className={styles.turnHead}>
        <span className={styles.turnWho}>{props.who}</span>
        <span className={styles.turnState}>{props.state}</span>
      </div>
      {props.fromSystem ? (
        <div className={styles.turnBody}>
          <Markdown text={props.body} />
        </div>
      ) : (
        <p className={styles.turnBody}>{props.body}</p>
      )}
    </div>
  );
}
