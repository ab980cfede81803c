import { Fragment } from "react";
import type { TaskUsageView } from "@/lib/contracts/api";
import { totalTokens } from "@/lib/contracts/usage";
import { COST_SOURCE_TONE } from "../_lib/status-tone";
import { formatTokens, formatTokensExact, formatUsd } from "../_lib/usage-format";
import { TurnSummary } from "./turn-summary";
import styles from "./usage.module.css";

type Turn = TaskUsageView["turns"][number];
type CostSource = keyof typeof COST_SOURCE_TONE;

const SOURCE_LABELS: Record<CostSource, string> = { agent: "reported by the CLI", "price-table": "priced from MODEL_PRICES", estimate: "estimated from its messages (cut short)", none: "no price" };

/** Past this many turns the table starts closed, so a long conversation does not push the page down. */
const OPEN_TURNS = 8;

/** "480 in · 96 out · 9k cache read": the parts of a turn's tokens, cache parts only when there are some; a line breaks between parts, not inside one. */
function TokenParts({ turn }: { turn: Turn }) {
  const parts = [`${formatTokens(turn.inputTokens)} in`, `${formatTokens(turn.outputTokens)} out`];
  if (turn.cacheReadTokens > 0) parts.push(`${formatTokens(turn.cacheReadTokens)} cache read`);
  if (turn.cacheWriteTokens > 0) parts.push(`${formatTokens(turn.cacheWriteTokens)} cache write`);
  return parts.map((part, index) => (
    <Fragment key={part}>
      {index > 0 && " · "}
      <span className={styles.part}>{part}</span>
    </Fragment>
  ));
}

/** A turn's figures, and under them the agent's closing summary when it gave one (a group of its own: the rule goes between turns). */
function TurnRows({ turn, withAttempt }: { turn: Turn; withAttempt: boolean }) {
  const source: CostSource = turn.costSource ?? "none";
  const tokens = totalTokens(turn);
  return (
    <tbody>
      <tr data-testid={`usage-turn-${turn.attempt}-${turn.turn}`}>
        <td className={styles.turnNumber}>{withAttempt ? `${turn.attempt} · ${turn.turn}` : turn.turn}</td>
        <td>
          <span className={styles.figure} title={`${formatTokensExact(tokens)} tokens`}>
            {formatTokens(tokens)}
          </span>
          <span className={styles.cellNote}>
            <TokenParts turn={turn} />
          </span>
        </td>
        <td>
          <span className={styles.figure}>{turn.costUsd === null ? "—" : formatUsd(turn.costUsd)}</span>
          <span className={`${styles.cellNote} ${styles.source}`} data-tone={COST_SOURCE_TONE[source]} data-testid="usage-turn-source">
            {SOURCE_LABELS[source]}
          </span>
        </td>
      </tr>
      {turn.summary && (
        <tr className={styles.summaryRow}>
          <td colSpan={3}>
            <TurnSummary summary={turn.summary} />
          </td>
        </tr>
      )}
    </tbody>
  );
}

/** Each turn that reported usage: its tokens and its cost, where the cost came from, and what the agent said it did. */
export function UsageTurns({ turns }: { turns: Turn[] }) {
  // The attempt is worth a column only once the task was retried.
  const withAttempt = turns.some((turn) => turn.attempt > 1);
  return (
    <details className={styles.turns} open={turns.length <= OPEN_TURNS}>
      <summary>
        Per turn · {turns.length} {turns.length === 1 ? "turn" : "turns"}
      </summary>
      <table className={styles.table} data-testid="usage-turns">
        <thead>
          <tr>
            <th scope="col" className={styles.turnHead}>
              {withAttempt ? "Attempt · turn" : "Turn"}
            </th>
            <th scope="col">Tokens</th>
            <th scope="col">Cost</th>
          </tr>
        </thead>
        {turns.map((turn) => (
          <TurnRows key={`${turn.attempt}-${turn.turn}-${turn.endedAt}`} turn={turn} withAttempt={withAttempt} />
        ))}
      </table>
    </details>
  );
}
