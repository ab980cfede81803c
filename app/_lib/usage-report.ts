/** The usage page's figures from a `UsageReport`: every day of the window (empty ones too), and each person's sums. */
import type { UsageDay, UsageReport } from "@/lib/contracts/api";
import { addTotals, NO_USAGE, totalTokens } from "@/lib/contracts/usage";
import { formatNodeTime, formatTokens, formatUsd } from "./usage-format";

/** One day's or one person's sums: what a row of the page shows. */
export type UsageFigures = Omit<UsageDay, "day" | "userId">;
export type Person = UsageReport["people"][number];

export const NO_FIGURES: UsageFigures = { ...NO_USAGE, tasks: 0, nodeMs: 0 };

function add(sum: UsageFigures, day: UsageFigures): UsageFigures {
  return { ...addTotals(sum, day), tasks: sum.tasks + day.tasks, nodeMs: sum.nodeMs + day.nodeMs };
}

const DAY_MS = 86_400_000;

/** Every UTC day from `from` to `to` (both `YYYY-MM-DD`, both included). */
export function utcDays(from: string, to: string): string[] {
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (Number.isNaN(start) || Number.isNaN(end)) return [];
  const days: string[] = [];
  for (let time = start; time <= end; time += DAY_MS) days.push(new Date(time).toISOString().slice(0, 10));
  return days;
}

/** Each day of the window with everyone's figures added; a day without usage is there with zeros (the report leaves it out). */
export function dailySeries(report: UsageReport): { day: string; figures: UsageFigures }[] {
  const sums = new Map<string, UsageFigures>();
  for (const { day, userId: _userId, ...figures } of report.days) sums.set(day, add(sums.get(day) ?? NO_FIGURES, figures));
  return utcDays(report.from, report.to).map((day) => ({ day, figures: sums.get(day) ?? NO_FIGURES }));
}

/** Each person's figures over the window, the costliest first (then the most node time, then by name). */
export function personTotals(report: UsageReport): { person: Person; figures: UsageFigures }[] {
  const sums = new Map<string, UsageFigures>();
  for (const { day: _day, userId, ...figures } of report.days) sums.set(userId, add(sums.get(userId) ?? NO_FIGURES, figures));
  const people = new Map(report.people.map((person) => [person.id, person]));
  return [...sums]
    .map(([id, figures]) => ({ person: people.get(id) ?? { id, name: id, email: "" }, figures }))
    .sort((a, b) => b.figures.costUsd - a.figures.costUsd || b.figures.nodeMs - a.figures.nodeMs || a.person.name.localeCompare(b.person.name));
}

/** Tasks over the window: a task with turns on several days counts on each, so this is the sum of the days'. */
export const taskDays = (report: UsageReport) => report.days.reduce((sum, day) => sum + day.tasks, 0);

/** "Nov 3": a UTC day, the same wherever the browser is. */
export const dayLabel = (day: string) => new Date(`${day}T00:00:00Z`).toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });

/** What the chart can show per day. */
export const CHART_METRICS = {
  cost: { label: "Cost", value: (figures: UsageFigures) => figures.costUsd, format: formatUsd },
  tokens: { label: "Tokens", value: (figures: UsageFigures) => totalTokens(figures), format: formatTokens },
  nodeTime: { label: "Node time", value: (figures: UsageFigures) => figures.nodeMs, format: formatNodeTime },
} as const;
export type ChartMetric = keyof typeof CHART_METRICS;
