import type { TaskUsageSummary } from "@/lib/contracts/api";
import { formatTokens, formatTokensExact, formatUsd } from "../_lib/usage-format";
import styles from "./task-list.module.css";

/** A task's cost in its list row ("$0.04"; "$0.04 + 2 unpriced" when some turns had no price), its tokens in the title. */
export function TaskCost({ usage }: { usage: TaskUsageSummary }) {
  const { costUsd, tokens, unpricedTurns } = usage;
  const unpriced = unpricedTurns > 0 ? `${unpricedTurns} unpriced` : "";
  const text = unpriced && costUsd === 0 ? unpriced : unpriced ? `${formatUsd(costUsd)} + ${unpriced}` : formatUsd(costUsd);
  const title = [`${formatTokens(tokens)} tokens (${formatTokensExact(tokens)})`, unpriced && `${unpricedTurns} ${unpricedTurns === 1 ? "turn's model has" : "turns' models have"} no price in MODEL_PRICES: the cost is incomplete`]
    .filter(Boolean)
    .join("; ");
  return (
    <span className={styles.rowCost} data-tone={unpriced ? "warn" : undefined} title={title} data-testid="task-row-cost">
      <span className="sr-only">Cost </span>
      {text}
    </span>
  );
}
