import { describe, expect, it } from "vitest";
import { formatCountdown, isRetryable, percent, secondsAgo, shortId } from "./format";

describe("formatCountdown", () => {
  it("reads like a clock, rounding part of a second up and stopping at zero", () => {
    expect(formatCountdown(15 * 60_000)).toBe("15:00");
    expect(formatCountdown(14 * 60_000 + 31_200)).toBe("14:32");
    expect(formatCountdown(5_000)).toBe("0:05");
    expect(formatCountdown(400)).toBe("0:01");
    expect(formatCountdown(0)).toBe("0:00");
    expect(formatCountdown(-3_000)).toBe("0:00");
    expect(formatCountdown(3_723_000)).toBe("1:02:03");
  });
});

describe("secondsAgo", () => {
  const now = Date.parse("2026-11-23T12:00:00Z");
  it("counts seconds for the first minute, then reads like relativeTime", () => {
    expect(secondsAgo("2026-11-23T12:00:00Z", now)).toBe("0 s ago");
    expect(secondsAgo("2026-11-23T11:59:48Z", now)).toBe("12 s ago");
    expect(secondsAgo("2026-11-23T11:57:00Z", now)).toBe("3 min ago");
    expect(secondsAgo("not a date", now)).toBe("");
  });
});

describe("shortId", () => {
  it("keeps node ids whole and cuts uuids after their first group", () => {
    expect(shortId("n_71030b3c8d37")).toBe("n_71030b3c8d37");
    expect(shortId("w_40371d71-43b8-4ef7-ab42-e162758a394c")).toBe("w_40371d71…");
    expect(shortId("40371d71-43b8-4ef7-ab42-e162758a394c")).toBe("40371d71…");
    expect(shortId("a".repeat(30))).toBe(`${"a".repeat(12)}…`);
  });
});

describe("percent", () => {
  it("rounds, and shows a dash when unknown", () => {
    expect(percent(33.6)).toBe("34 %");
    expect(percent(null)).toBe("—");
  });
});

describe("isRetryable", () => {
  it("is true only for a failed or cancelled task", () => {
    expect(isRetryable("failed")).toBe(true);
    expect(isRetryable("cancelled")).toBe(true);
    for (const status of ["draft", "ready", "queued", "delegated", "in_progress", "completed"] as const) expect(isRetryable(status)).toBe(false);
  });
});
