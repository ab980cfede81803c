import type { ReactNode } from "react";

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
    <div className={`turn${props.queued ? " turn-queued" : ""}`} data-testid={props.testId} {...props.data}>
      <div className="turn-head">
        <span className="turn-who">{props.who}</span>
        <span className="turn-state">{props.state}</span>
      </div>
      <p className="turn-body">{props.body}</p>
    </div>
  );
}
