import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { script } from "./script";

describe("script.output.summary", () => {
  it("is the built-in agent's last line (the captured run's)", () => {
    const output = fs.readFileSync(new URL("./fixtures/script.txt", import.meta.url), "utf8");
    expect(script.output.summary(output)).toBe("script agent: wrote .agent/tasks/add-a-contributing-guide.md");
  });

  it("is an operator's script's last line of text, past blank lines and events of another CLI it passed on", () => {
    expect(script.output.summary("building\n  Fixed the parser; 3 tests added.  \n\n   \n")).toBe("Fixed the parser; 3 tests added.");
    expect(script.output.summary('All done.\n{"type":"result","subtype":"success","result":"x"}\n')).toBe("All done.");
  });

  it("is absent from a run that printed nothing", () => {
    expect(script.output.summary("")).toBeUndefined();
    expect(script.output.summary("\n  \n")).toBeUndefined();
  });
});
