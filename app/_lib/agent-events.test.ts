import { describe, expect, it } from "vitest";
import { toEntries } from "./agent-events";

describe("toEntries", () => {
  it("reads Claude Code's stream-json events as text, tool calls and the result", () => {
    const lines = [
      JSON.stringify({ type: "system", subtype: "init", model: "claude-x", session_id: "abc" }),
      JSON.stringify({ type: "assistant", message: { content: [{ type: "text", text: "I'll add the file." }, { type: "tool_use", name: "Bash", input: { command: "echo hi > a.txt" } }] } }),
      JSON.stringify({ type: "result", subtype: "success", is_error: false, result: "Done." }),
    ];
    expect(toEntries(lines)).toEqual([
      { kind: "system", text: "session started (claude-x)" },
      { kind: "text", text: "I'll add the file." },
      { kind: "tool", text: "Bash: echo hi > a.txt" },
      { kind: "result", text: "Done." },
    ]);
  });

  it("shows a failed result as an error and any other line as it is", () => {
    expect(toEntries(['{"type":"result","is_error":true,"result":"quota"}', "{not json", "plain"])).toEqual([
      { kind: "error", text: "quota" },
      { kind: "line", text: "{not json" },
      { kind: "line", text: "plain" },
    ]);
  });
});
