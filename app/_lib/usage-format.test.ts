import { describe, expect, it } from "vitest";
import { formatCost, formatNodeTime, formatTokens, formatTokensExact, formatUsd, summaryIsLong } from "./usage-format";

describe("formatUsd", () => {
  it("shows fractions of a cent to four places, cents from a cent up", () => {
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(0.00384)).toBe("$0.0038");
    expect(formatUsd(0.00005)).toBe("<$0.0001");
    expect(formatUsd(0.0421)).toBe("$0.04");
    expect(formatUsd(1.234)).toBe("$1.23");
    expect(formatUsd(1234.5)).toBe("$1,234.50");
    expect(formatUsd(-1)).toBe("$0.00");
  });
});

describe("formatTokens", () => {
  it("keeps three significant digits with a unit", () => {
    expect(formatTokens(0)).toBe("0");
    expect(formatTokens(950)).toBe("950");
    expect(formatTokens(1000)).toBe("1k");
    expect(formatTokens(1234)).toBe("1.2k");
    expect(formatTokens(12_400)).toBe("12.4k");
    expect(formatTokens(124_400)).toBe("124k");
    expect(formatTokens(1_500_000)).toBe("1.5M");
    expect(formatTokens(2_000_000_000)).toBe("2B");
  });

  it("moves to the next unit when a figure rounds up to a thousand of its own", () => {
    expect(formatTokens(999_600)).toBe("1M");
    expect(formatTokens(99_960)).toBe("100k");
  });

  it("writes every digit for a title", () => {
    expect(formatTokensExact(12_400)).toBe("12,400");
  });
});

describe("formatNodeTime", () => {
  it("reads seconds, minutes and seconds, then hours and minutes", () => {
    expect(formatNodeTime(0)).toBe("0 s");
    expect(formatNodeTime(45_900)).toBe("45 s");
    expect(formatNodeTime(252_000)).toBe("4 min 12 s");
    expect(formatNodeTime(7_500_000)).toBe("2 h 5 min");
    expect(formatNodeTime(-5)).toBe("0 s");
  });
});

describe("formatCost", () => {
  it("never shows a cost with unpriced turns as complete", () => {
    expect(formatCost({ costUsd: 1.234, unpricedTurns: 0 })).toBe("$1.23");
    expect(formatCost({ costUsd: 0, unpricedTurns: 0 })).toBe("$0.00");
    expect(formatCost({ costUsd: 1.234, unpricedTurns: 2 })).toBe("$1.23 + 2 unpriced turns");
    expect(formatCost({ costUsd: 0.5, unpricedTurns: 1 })).toBe("$0.50 + 1 unpriced turn");
    expect(formatCost({ costUsd: 0, unpricedTurns: 3 })).toBe("3 unpriced turns");
  });
});

describe("summaryIsLong", () => {
  it("collapses a turn's summary past 320 characters or 5 lines, not before", () => {
    expect(summaryIsLong("Fixed the parser; 3 tests added.")).toBe(false);
    expect(summaryIsLong("x".repeat(320))).toBe(false);
    expect(summaryIsLong("x".repeat(321))).toBe(true);
    expect(summaryIsLong("- one\n- two\n- three\n- four\n- five\n")).toBe(false);
    expect(summaryIsLong("- one\n- two\n- three\n- four\n- five\n- six")).toBe(true);
  });
});
