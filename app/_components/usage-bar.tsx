import { percent } from "../_lib/format";

/** A small labelled bar for a percentage; amber from 70 %, red from 90 %. */
export function UsageBar({ label, value }: { label: string; value: number | null }) {
  const clamped = value === null ? 0 : Math.min(100, Math.max(0, value));
  const level = value === null ? "none" : clamped >= 90 ? "high" : clamped >= 70 ? "mid" : "low";
  return (
    <div className={`usage usage-${level}`}>
      <div className="usage-head">
        <span className="usage-label">{label}</span>
        <span className="usage-value">{percent(value)}</span>
      </div>
      <div className="usage-track" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={value === null ? undefined : Math.round(clamped)}>
        <span className="usage-fill" style={{ width: `${clamped}%` }} />
      </div>
    </div>
  );
}
