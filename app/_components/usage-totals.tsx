import type { ReactNode } from "react";
import type { UsageReport } from "@/lib/contracts/api";
import { totalTokens } from "@/lib/contracts/usage";
import { taskDays } from "../_lib/usage-report";
import { formatNodeTime, formatTokens, formatTokensExact, formatUsd } from "../_lib/usage-format";
import styles from "./usage-page.module.css";

function Tile({ label, value, note, title, testId, tone }: { label: string; value: string; note: ReactNode; title?: string; testId: string; tone?: "warn" }) {
  return (
    <div className={`card ${styles.tile}`} data-testid={testId} title={title}>
      <dt className={styles.tileLabel}>{label}</dt>
      <dd className={styles.tileValue}>{value}</dd>
      <dd className={styles.tileNote} data-tone={tone}>
        {note}
      </dd>
    </div>
  );
}

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

/** The window's sums: cost (incomplete when some turns had no price), tokens, tasks and node time. */
export function UsageTotals({ report }: { report: UsageReport }) {
  const { total } = report;
  const tokens = totalTokens(total);
  const tasks = taskDays(report);
  const nothingPriced = total.unpricedTurns > 0 && total.costUsd === 0;
  return (
    <dl className={styles.tiles} data-testid="usage-totals">
      <Tile
        label="Cost"
        testId="usage-total-cost"
        value={nothingPriced ? "No price" : formatUsd(total.costUsd)}
        tone={total.unpricedTurns > 0 ? "warn" : undefined}
        note={total.unpricedTurns > 0 ? `+ ${plural(total.unpricedTurns, "unpriced turn", "unpriced turns")} (no price in MODEL_PRICES)` : plural(total.turns, "turn", "turns")}
      />
      <Tile
        label="Tokens"
        testId="usage-total-tokens"
        value={formatTokens(tokens)}
        title={`${formatTokensExact(tokens)} tokens`}
        note={`${formatTokens(total.inputTokens)} in · ${formatTokens(total.outputTokens)} out · ${formatTokens(total.cacheReadTokens + total.cacheWriteTokens)} cache`}
      />
      <Tile label="Tasks" testId="usage-total-tasks" value={String(tasks)} title="Tasks whose turns reported tokens; a task that ran on several days counts on each" note="with token usage" />
      <Tile label="Node time" testId="usage-total-node-time" value={formatNodeTime(total.nodeMs)} note="workspaces on nodes" />
    </dl>
  );
}
