import type { TaskDetail, TaskUsageView } from "@/lib/contracts/api";
import { totalTokens } from "@/lib/contracts/usage";
import { isTerminal } from "../_lib/format";
import { formatNodeTime, formatTokens, formatTokensExact, formatUsd } from "../_lib/usage-format";
import { BudgetMeter } from "./budget-meter";
import { UsageTurns } from "./usage-turns";
import styles from "./usage.module.css";

function TokenFact({ term, tokens }: { term: string; tokens: number }) {
  return (
    <>
      <dt>{term}</dt>
      <dd title={`${formatTokensExact(tokens)} tokens`}>{formatTokens(tokens)}</dd>
    </>
  );
}

/** The total, and when some turns had no price, that it is only part of the cost. */
function TotalCost({ total }: { total: TaskUsageView["total"] }) {
  const { costUsd, unpricedTurns, turns } = total;
  const nothingPriced = unpricedTurns > 0 && costUsd === 0;
  return (
    <div className={styles.cost}>
      <span className={styles.costLabel}>Cost</span>
      <span className={styles.costFigure} data-testid="usage-cost">
        {nothingPriced ? "No price" : formatUsd(costUsd)}
        {unpricedTurns > 0 && !nothingPriced && <span className={styles.costMore}> + {unpricedTurns} unpriced {unpricedTurns === 1 ? "turn" : "turns"}</span>}
      </span>
      {unpricedTurns > 0 && (
        <span className={styles.costNote} data-tone="warn" data-testid="usage-unpriced">
          {nothingPriced ? `None of its ${turns} ${turns === 1 ? "turn's model has" : "turns' models have"} a price` : "Incomplete: their model has no price"} in MODEL_PRICES.
        </span>
      )}
    </div>
  );
}

/** Why there are no tokens to show: the agent never reports them, or no turn has ended yet. */
function noTokensText(task: TaskDetail): string {
  if (task.agent === "script") return "The script agent reports no token usage.";
  if (!isTerminal(task.status)) return "Tokens and cost show here once a turn ends.";
  return "Its agent reported no token usage.";
}

/** What the task used: its cost against its budget, its tokens and node time in total, and per turn. */
export function UsageCard({ task }: { task: TaskDetail }) {
  const { turns, total, nodeMs, onNode } = task.usageDetail;
  const { budget } = task;
  return (
    <section className="card" aria-labelledby="usage-heading" data-testid="task-usage">
      <h2 id="usage-heading">Usage</h2>
      {turns.length > 0 && <TotalCost total={total} />}
      <div className={styles.budget}>
        <BudgetMeter label="Budget" spentUsd={budget.spentUsd} limitUsd={budget.limitUsd} paused={budget.paused !== null} testId="usage-budget" />
      </div>
      <dl className={`facts ${styles.facts}`}>
        {turns.length > 0 && (
          <>
            <TokenFact term="Tokens" tokens={totalTokens(total)} />
            <TokenFact term="Input" tokens={total.inputTokens} />
            <TokenFact term="Output" tokens={total.outputTokens} />
            <TokenFact term="Cache read" tokens={total.cacheReadTokens} />
            <TokenFact term="Cache write" tokens={total.cacheWriteTokens} />
          </>
        )}
        <dt>Node time</dt>
        <dd data-testid="usage-node-time">
          {formatNodeTime(nodeMs)}
          {onNode && (
            <span className={styles.onNode} data-tone="active" title="A workspace of this task is still on its node: the time grows until it ends">
              <span className={styles.onNodeDot} aria-hidden="true" /> so far, still on its node
            </span>
          )}
        </dd>
      </dl>
      {turns.length === 0 ? (
        <p className={`muted ${styles.note}`} data-testid="usage-no-tokens">
          {noTokensText(task)}
        </p>
      ) : (
        <UsageTurns turns={turns} />
      )}
    </section>
  );
}
