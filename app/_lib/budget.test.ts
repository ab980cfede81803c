import { describe, expect, it } from "vitest";
import { BudgetUsd } from "@/lib/contracts/api";
import { budgetLevel, labelled, limitChoice, limitText, limitValue, parseUsd, pauseTitle, sameLimits, spentOfLimit, spentShare, suggestedRaise, usdInputText } from "./budget";
import { BUDGET_LEVEL_TONE } from "./status-tone";

describe("parseUsd", () => {
  it("reads plain amounts, with or without a dollar sign; empty is no amount", () => {
    expect(parseUsd("")).toBeUndefined();
    expect(parseUsd("   ")).toBeUndefined();
    expect(parseUsd("2.5")).toBe(2.5);
    expect(parseUsd(" $2.50 ")).toBe(2.5);
    expect(parseUsd("$ 10")).toBe(10);
    expect(parseUsd("0")).toBe(0);
    expect(parseUsd(".5")).toBe(0.5);
    expect(parseUsd("3.")).toBe(3);
  });

  it("makes anything else NaN, which the contract's schema refuses with its own words", () => {
    for (const text of ["abc", "-1", "1e3", "0x10", "2,50", "1.2.3", "$"]) expect(parseUsd(text), text).toBeNaN();
    expect(BudgetUsd.safeParse(parseUsd("abc")).error?.issues[0]?.message).toBe("must be an amount of US dollars, such as 2.5");
    expect(BudgetUsd.safeParse(parseUsd("2.555")).error?.issues[0]?.message).toBe("must be in whole cents");
  });
});

describe("amounts and limits in words", () => {
  it("shows whole dollars bare and others with their cents", () => {
    expect(usdInputText(25)).toBe("25");
    expect(usdInputText(2.5)).toBe("2.50");
    expect(usdInputText(0.05)).toBe("0.05");
  });

  it("says no limit for none (null or 0)", () => {
    expect(limitText(2)).toBe("$2.00");
    expect(limitText(null)).toBe("no limit");
    expect(limitText(0)).toBe("no limit");
  });

  it("reads spend against a limit", () => {
    expect(spentOfLimit(0.42, 2)).toBe("$0.42 of $2.00");
    expect(spentOfLimit(0.0038, 10)).toBe("$0.0038 of $10.00");
    expect(spentOfLimit(1.5, null)).toBe("$1.50 spent · no limit");
  });
});

describe("budgetLevel", () => {
  it("is none without a limit, near from 80 %, reached at the limit or when a budget holds the task", () => {
    expect(budgetLevel(5, null)).toBe("none");
    expect(budgetLevel(5, 0)).toBe("none");
    expect(budgetLevel(0, 2)).toBe("ok");
    expect(budgetLevel(1.59, 2)).toBe("ok");
    expect(budgetLevel(1.6, 2)).toBe("near");
    expect(budgetLevel(2, 2)).toBe("reached");
    expect(budgetLevel(2.04, 2)).toBe("reached");
    // Held by the day's limit: the task's own budget is not reached, but it is held.
    expect(budgetLevel(0.1, 2, true)).toBe("reached");
    expect(budgetLevel(0.1, null, true)).toBe("reached");
  });

  it("gives each level a tone", () => {
    expect(BUDGET_LEVEL_TONE).toEqual({ none: "quiet", ok: "info", near: "warn", reached: "bad" });
  });

  it("gives the share spent, past 1 when over, none without a limit", () => {
    expect(spentShare(0.5, 2)).toBe(0.25);
    expect(spentShare(3, 2)).toBe(1.5);
    expect(spentShare(-1, 2)).toBe(0);
    expect(spentShare(1, null)).toBeNull();
  });
});

describe("suggestedRaise", () => {
  it("doubles the limit, and doubles again until it is past what was spent", () => {
    expect(suggestedRaise(2, 2.04)).toBe(4);
    expect(suggestedRaise(0.5, 0.52)).toBe(1);
    expect(suggestedRaise(1, 2.5)).toBe(4);
    expect(suggestedRaise(2.35, 2.4)).toBe(4.7);
  });

  it("starts from a dollar without a limit", () => {
    expect(suggestedRaise(null, 0)).toBe(1);
    expect(suggestedRaise(null, 3.1)).toBe(4);
  });

  it("is always a valid budget", () => {
    for (const [limit, spent] of [[0.01, 0.02], [3.33, 3.4], [99.99, 150]] as const) {
      const raised = suggestedRaise(limit, spent);
      expect(raised).toBeGreaterThan(spent);
      expect(BudgetUsd.safeParse(raised).success).toBe(true);
    }
  });
});

describe("words", () => {
  it("names what holds the task", () => {
    expect(pauseTitle("task")).toBe("Paused: the task reached its budget");
    expect(pauseTitle("day")).toContain("today");
    expect(pauseTitle("month")).toContain("this month");
    expect(pauseTitle(null)).toBe("Paused by a budget");
  });

  it("puts the page's label where the API names its field", () => {
    expect(labelled("budgetUsd must be in whole cents", "budgetUsd", "Budget")).toBe("Budget must be in whole cents");
    expect(labelled("task t_1 is already completed", "budgetUsd", "Budget")).toBe("task t_1 is already completed");
  });
});

describe("the settings' limit choices", () => {
  it("reads a stored limit: null the default, 0 none, else an amount", () => {
    expect(limitChoice(null)).toEqual({ mode: "default", amount: "" });
    expect(limitChoice(0)).toEqual({ mode: "none", amount: "" });
    expect(limitChoice(12.5)).toEqual({ mode: "amount", amount: "12.50" });
  });

  it("gives the API's value for a choice; an amount that is not one is NaN", () => {
    expect(limitValue({ mode: "default", amount: "5" })).toBeNull();
    expect(limitValue({ mode: "none", amount: "5" })).toBe(0);
    expect(limitValue({ mode: "amount", amount: "$12.50" })).toBe(12.5);
    expect(limitValue({ mode: "amount", amount: "" })).toBeNaN();
    expect(limitValue({ mode: "amount", amount: "lots" })).toBeNaN();
  });

  it("compares limits, a NaN never equal", () => {
    expect(sameLimits({ dailyUsd: null, monthlyUsd: 5 }, { dailyUsd: null, monthlyUsd: 5 })).toBe(true);
    expect(sameLimits({ dailyUsd: 0, monthlyUsd: 5 }, { dailyUsd: null, monthlyUsd: 5 })).toBe(false);
    expect(sameLimits({ dailyUsd: Number.NaN, monthlyUsd: 5 }, { dailyUsd: Number.NaN, monthlyUsd: 5 })).toBe(false);
  });
});
