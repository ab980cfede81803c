import { percent } from "../_lib/format";
import styles from "./nodes.module.css";

const LEVEL_CLASS = { none: styles.usageNone, low: undefined, mid: styles.usageMid, high: styles.usageHigh };

/** A small labelled bar for a percentage; amber from 70 %, red from 90 %. */
export function UsageBar({ label, value }: { label: string; value: number | null }) {
  const clamped = value === null ? 0 : Math.min(100, Math.max(0, value));
  const level = value === null ? "none" : clamped >= 90 ? "high" : clamped >= 70 ? "mid" : "low";
  return (
    <div className={LEVEL_CLASS[level]}>
      <div className={styles.usageHead}>
        <span className={styles.usageLabel}>{label}</span>
        <span className={styles.usageValue}>{percent(value)}</span>
      </div>
      <div className={styles.usageTrack} role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={value === null ? undefined : Math.round(clamped)}>
        <span className={styles.usageFill} style={{ width: `${clamped}%` }} />
      </div>
    </div>
  );
}
