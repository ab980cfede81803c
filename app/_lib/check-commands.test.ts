import { describe, expect, it } from "vitest";
import { checkFieldMessage, readCheckLines } from "./check-commands";

describe("the new-task form's checks", () => {
  it("reads one command a line, blank lines left out, each with its line in the box", () => {
    expect(readCheckLines("test -f README.md\n\n  exit 3  \n")).toEqual({ commands: ["test -f README.md", "exit 3"], lines: [1, 3] });
    expect(readCheckLines(" \n")).toEqual({ commands: [], lines: [] });
  });

  it("places the API's word on a command on its line in the box", () => {
    expect(checkFieldMessage("checks.1", "checks.1 must be at most 2000 characters", [1, 3])).toBe("Checks, line 3: must be at most 2000 characters");
    expect(checkFieldMessage("checks", "checks at most 20 commands", [])).toBe("Checks: at most 20 commands");
    expect(checkFieldMessage("prompt", "prompt is required", [])).toBeUndefined();
  });
});
