import { describe, expect, it } from "vitest";
import { checkOutcome } from "@/lib/contracts/checks";
import { checkRunState } from "./check-blocks";
import { commandFailed, roundText, summarySentence } from "./checks-view";

describe("the checks in words", () => {
  it("opens the API's summary as a sentence and says the round among the rounds", () => {
    expect(summarySentence("checks failing after 3 rounds")).toBe("Checks failing after 3 rounds");
    expect(roundText({ round: 2, maxRounds: 3 })).toBe("2 of 3");
    // A person's follow-up restarts the count, but a round past the limit (the limit lowered) still reads true.
    expect(roundText({ round: 4, maxRounds: 3 })).toBe("4 of 4");
  });

  it("says how a command ended and whether that failed", () => {
    expect(checkOutcome({ exitCode: 3, timedOut: false })).toBe("exit 3");
    expect(checkOutcome({ exitCode: null, timedOut: true })).toBe("killed: out of time");
    expect(checkOutcome({ exitCode: null, timedOut: false })).toBe("not run");
    expect(commandFailed({ exitCode: 0, timedOut: false })).toBe(false);
    expect(commandFailed({ exitCode: null, timedOut: false })).toBe(true);
    expect(checkRunState(null, true)).toBe("running");
    expect(checkRunState(null, false)).toBe("unknown");
    expect(checkRunState({ exitCode: 0, durationMs: 5, timedOut: false }, false)).toBe("passed");
  });
});
