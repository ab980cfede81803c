import { describe, expect, it } from "vitest";
import type { UsageReport } from "@/lib/contracts/api";
import { CHART_METRICS, dailySeries, dayLabel, NO_FIGURES, personTotals, taskDays, utcDays } from "./usage-report";

const day = (date: string, userId: string, figures: Partial<typeof NO_FIGURES>) => ({ ...NO_FIGURES, day: date, userId, ...figures });

const report: UsageReport = {
  from: "2026-02-27",
  to: "2026-03-02",
  days: [
    day("2026-02-28", "ann", { costUsd: 0.5, inputTokens: 100, outputTokens: 20, turns: 2, tasks: 1, nodeMs: 60_000 }),
    day("2026-02-28", "bob", { costUsd: 0.25, cacheReadTokens: 1000, turns: 1, unpricedTurns: 1, tasks: 1, nodeMs: 30_000 }),
    day("2026-03-02", "ann", { nodeMs: 5_000 }),
  ],
  people: [
    { id: "ann", name: "Ann", email: "ann@example.com" },
    { id: "bob", name: "Bob", email: "bob@example.com" },
  ],
  total: { ...NO_FIGURES },
};

describe("utcDays", () => {
  it("lists every day of the window, across a month's end", () => {
    expect(utcDays("2026-02-27", "2026-03-02")).toEqual(["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]);
    expect(utcDays("2026-03-02", "2026-03-02")).toEqual(["2026-03-02"]);
    expect(utcDays("nonsense", "2026-03-02")).toEqual([]);
  });
});

describe("dailySeries", () => {
  it("adds up everyone's figures per day and keeps the days without usage as zeros", () => {
    const series = dailySeries(report);
    expect(series.map((entry) => entry.day)).toEqual(["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]);
    expect(series[0]!.figures).toEqual(NO_FIGURES);
    expect(series[1]!.figures).toMatchObject({ costUsd: 0.75, inputTokens: 100, cacheReadTokens: 1000, turns: 3, unpricedTurns: 1, tasks: 2, nodeMs: 90_000 });
    expect(series[3]!.figures).toMatchObject({ costUsd: 0, nodeMs: 5_000 });
  });
});

describe("personTotals", () => {
  it("sums each person over the window, costliest first, named from the report's people", () => {
    const totals = personTotals(report);
    expect(totals.map((entry) => entry.person.name)).toEqual(["Ann", "Bob"]);
    expect(totals[0]!.figures).toMatchObject({ costUsd: 0.5, nodeMs: 65_000, tasks: 1 });
    expect(totals[1]!.figures).toMatchObject({ costUsd: 0.25, unpricedTurns: 1 });
  });

  it("shows a person the report does not name by their id", () => {
    expect(personTotals({ ...report, people: [] })[0]!.person).toEqual({ id: "ann", name: "ann", email: "" });
  });
});

describe("the rest", () => {
  it("counts task-days, labels a UTC day, and reads each chart metric", () => {
    expect(taskDays(report)).toBe(2);
    expect(dayLabel("2026-03-02")).toBe("Mar 2");
    const figures = { ...NO_FIGURES, costUsd: 1.5, inputTokens: 1000, outputTokens: 200, cacheWriteTokens: 300, nodeMs: 252_000 };
    expect(CHART_METRICS.cost.format(CHART_METRICS.cost.value(figures))).toBe("$1.50");
    expect(CHART_METRICS.tokens.format(CHART_METRICS.tokens.value(figures))).toBe("1.5k");
    expect(CHART_METRICS.nodeTime.format(CHART_METRICS.nodeTime.value(figures))).toBe("4 min 12 s");
  });
});
