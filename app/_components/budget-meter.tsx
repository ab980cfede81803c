import { budgetLevel, spentOfLimit, spentShare } from "../_lib/budget";
import { BUDGET_LEVEL_TONE } from "../_lib/status-tone";
import styles from "./budget.module.css";

/**
 * Spend against a limit: "$0.42 of $2.00" and a small meter toned by how far in it is (amber from
 * 80 %, red at the limit or while a budget holds the task); without a limit the figure alone.
 */
export function BudgetMeter({ label, spentUsd, limitUsd, paused = false, testId }: { label: string; spentUsd: number; limitUsd: number | null; paused?: boolean; testId?: string }) {
  const level = budgetLevel(spentUsd, limitUsd, paused);
  const share = spentShare(spentUsd, limitUsd);
  const text = spentOfLimit(spentUsd, limitUsd);
  return (
    <div className={styles.meterBlock} data-tone={BUDGET_LEVEL_TONE[level]} data-level={level} data-testid={testId}>
      <div className={styles.meterHead}>
        <span className={styles.meterLabel}>{label}</span>
        <span className={styles.meterFigure} data-testid={testId && `${testId}-figure`}>
          {text}
        </span>
      </div>
      {share !== null && limitUsd !== null && (
        <div className={styles.meterTrack} role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={limitUsd} aria-valuenow={Math.min(limitUsd, Math.max(0, spentUsd))} aria-valuetext={text}>
          <span className={styles.meterFill} style={{ width: `${Math.min(100, share * 100)}%` }} />
        </div>
      )}
    </div>
  );
}
