"use client";
import { useState } from "react";
import type { UsageReport } from "@/lib/contracts/api";
import { CHART_METRICS, dailySeries, dayLabel, type ChartMetric } from "../_lib/usage-report";
import styles from "./usage-page.module.css";

const METRICS = Object.keys(CHART_METRICS) as ChartMetric[];

/** Three dates under the bars: the first day, the middle one and the last. */
function AxisLabels({ days }: { days: string[] }) {
  const picks = days.length > 2 ? [days[0]!, days[Math.floor((days.length - 1) / 2)]!, days[days.length - 1]!] : days;
  return (
    <div className={styles.axis} aria-hidden="true">
      {picks.map((day) => (
        <span key={day}>{dayLabel(day)}</span>
      ))}
    </div>
  );
}

/** A bar per UTC day of the window (cost, tokens or node time); a day without any is an empty bar. Each bar's figure is in its title and, for screen readers, in its text. */
export function UsageChart({ report }: { report: UsageReport }) {
  const [metric, setMetric] = useState<ChartMetric>("cost");
  const { label, value, format } = CHART_METRICS[metric];
  const series = dailySeries(report).map(({ day, figures }) => ({ day, amount: value(figures) }));
  const max = Math.max(0, ...series.map((entry) => entry.amount));
  const caption = `${label} per day, ${dayLabel(report.from)} to ${dayLabel(report.to)} (UTC)`;
  return (
    <section className="card" aria-labelledby="usage-chart-heading" data-testid="usage-chart" data-metric={metric}>
      <div className={styles.chartHead}>
        <h2 id="usage-chart-heading">Per day</h2>
        <div className={styles.segments} role="group" aria-label="What the bars show">
          {METRICS.map((key) => (
            <button key={key} type="button" className={styles.segment} aria-pressed={key === metric} onClick={() => setMetric(key)}>
              {CHART_METRICS[key].label}
            </button>
          ))}
        </div>
      </div>
      <figure className={styles.figure}>
        <figcaption className="sr-only">{caption}</figcaption>
        <div className={styles.plot}>
          {max > 0 ? (
            <span className={styles.plotMax} aria-hidden="true">
              {format(max)}
            </span>
          ) : (
            <p className={styles.plotEmpty} data-testid="usage-chart-empty">
              No {label.toLowerCase()} in these {series.length} days
            </p>
          )}
          <ol className={styles.bars} aria-label={caption}>
            {series.map(({ day, amount }) => {
              const text = `${dayLabel(day)}: ${format(amount)}`;
              return (
                <li key={day} className={styles.bar} title={text} data-testid={`usage-bar-${day}`} data-empty={amount === 0 || undefined}>
                  <span className="sr-only">{text}</span>
                  <span className={styles.barFill} style={{ height: `${max > 0 ? (amount / max) * 100 : 0}%` }} aria-hidden="true" />
                </li>
              );
            })}
          </ol>
        </div>
        <AxisLabels days={series.map((entry) => entry.day)} />
      </figure>
    </section>
  );
}
