import { describe, expect, it } from "vitest";
import { TaskCiView } from "@/lib/contracts/api";
import { ciCheckLink, ciCheckOutcome, ciChecksCount, ciExcerptOpen } from "./ci-view";
import { CI_CHECK_TONE, CI_STATE_LOOK } from "./status-tone";

describe("the pull request's CI in words", () => {
  it("says how a check stands: running, else the forge's own word for how it ended", () => {
    expect(ciCheckOutcome({ state: "pending", conclusion: null })).toBe("running");
    expect(ciCheckOutcome({ state: "failed", conclusion: "timed_out" })).toBe("timed out");
    expect(ciCheckOutcome({ state: "passed", conclusion: "success" })).toBe("success");
    expect(ciCheckOutcome({ state: "failed", conclusion: null })).toBe("failed");
  });

  it("links a check's page only when it is a web address", () => {
    expect(ciCheckLink("https://github.com/org/repo/actions/runs/1/job/2")).toBe("https://github.com/org/repo/actions/runs/1/job/2");
    expect(ciCheckLink("javascript:alert(1)")).toBeNull();
    expect(ciCheckLink("not a url")).toBeNull();
    expect(ciCheckLink(null)).toBeNull();
  });

  it("counts the checks, and those still running while some are", () => {
    expect(ciChecksCount([{ state: "passed" }])).toBe("1 check");
    expect(ciChecksCount([{ state: "pending" }, { state: "passed" }])).toBe("1 of 2 checks running");
    expect(ciChecksCount([{ state: "pending" }, { state: "pending" }])).toBe("2 checks");
  });

  it("opens the failure log while CI fails, and gives every state and check a tone", () => {
    const states = TaskCiView.shape.state.options;
    expect(states.filter(ciExcerptOpen)).toEqual(["fixing", "failing"]);
    for (const state of states) expect(CI_STATE_LOOK[state].tone, state).toBeTruthy();
    expect(states.filter((state) => CI_STATE_LOOK[state].pulse)).toEqual(["pending"]);
    expect([CI_STATE_LOOK.passed.tone, CI_STATE_LOOK.failing.tone, CI_STATE_LOOK.none.tone]).toEqual(["good", "bad", "quiet"]);
    expect(CI_CHECK_TONE).toEqual({ pending: "info", passed: "good", failed: "bad" });
  });
});
