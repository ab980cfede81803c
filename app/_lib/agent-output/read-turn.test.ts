import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { readTurn } from ".";

/** A stream the CLI really wrote (see lib/contracts/agents/fixtures/README.md), one event a line. */
const captured = (name: string) => fs.readFileSync(new URL(`../../../lib/contracts/agents/fixtures/${name}.jsonl`, import.meta.url), "utf8").trimEnd().split("\n");
const json = (event: unknown) => JSON.stringify(event);

describe("Claude Code stream-json", () => {
  it("reads a real run: its start, a retried API error, each tool call paired with its result by id, the text and the end", () => {
    const items = readTurn(captured("claude-code"), { ended: false });
    expect(items.map((item) => item.kind)).toEqual(["notice", "error", "tool", "tool", "tool", "text", "notice"]);
    expect(items[0]).toEqual({ kind: "notice", text: "Session started · claude-opus-5-5" });
    expect(items[1]).toEqual({ kind: "error", text: "API error 429 (rate_limit): retrying, attempt 1 of 10" });
    expect(items[2]).toEqual({
      kind: "tool",
      call: {
        id: "toolu_mx4wcu842",
        name: "Bash",
        subject: "ls missing-dir",
        subjectIsFile: false,
        status: "failed",
        input: '{\n  "command": "ls missing-dir",\n  "description": "List"\n}',
        result: "Exit code 2\nls: cannot access 'missing-dir': No such file or directory",
      },
    });
    // File paths are shown relative to the session's working folder (from its init event).
    expect(items[3]).toMatchObject({ kind: "tool", call: { name: "Write", subject: "NOTES.md", subjectIsFile: true, status: "ok" } });
    expect(items[4]).toMatchObject({ kind: "tool", call: { name: "Read", subject: "NOTES.md", status: "ok", result: "1\t# Notes\n2\t" } });
    expect(items[5]).toEqual({ kind: "text", text: "Done: wrote **NOTES.md**.\n\n- one\n- two" });
    expect(items[6]).toEqual({ kind: "notice", text: "Finished in 0.8 s" });
  });

  it("shows a call without its result as running until the turn is over, then as failed", () => {
    const lines = [json({ type: "assistant", message: { content: [{ type: "tool_use", id: "t1", name: "Bash", input: { command: "sleep 100" } }] } })];
    expect(readTurn(lines, { ended: false })).toMatchObject([{ kind: "tool", call: { status: "running", result: null } }]);
    expect(readTurn(lines, { ended: true })).toMatchObject([{ kind: "tool", call: { status: "failed", result: "No result: the run ended before this call finished." } }]);
  });

  it("marks a failed run, keeps thinking apart from the text, and reads a result's content blocks", () => {
    const lines = [
      json({ type: "assistant", message: { content: [{ type: "thinking", thinking: "Check the tests first." }, { type: "text", text: "Running them." }, { type: "tool_use", id: "t1", name: "Grep", input: { pattern: "TODO", path: "src" } }] } }),
      json({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: "t1", content: [{ type: "text", text: "src/a.ts:1: TODO" }, { type: "image" }] }] } }),
      json({ type: "result", subtype: "error_max_turns", is_error: true, result: "Reached the maximum number of turns" }),
    ];
    expect(readTurn(lines, { ended: true })).toEqual([
      { kind: "reasoning", text: "Check the tests first." },
      { kind: "text", text: "Running them." },
      { kind: "tool", call: { id: "t1", name: "Grep", subject: "TODO", subjectIsFile: false, status: "ok", input: '{\n  "pattern": "TODO",\n  "path": "src"\n}', result: "src/a.ts:1: TODO\n[image]" } },
      { kind: "error", text: "error_max_turns: Reached the maximum number of turns" },
    ]);
  });

  it("clips a long tool result and says how much the download has beyond it", () => {
    const lines = [
      json({ type: "assistant", message: { content: [{ type: "tool_use", id: "t1", name: "Read", input: { file_path: "big.txt" } }] } }),
      json({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: "t1", content: "x".repeat(20_000) }] } }),
    ];
    const [item] = readTurn(lines, { ended: true });
    expect(item?.kind === "tool" && item.call.result).toBe(`${"x".repeat(8_000)}\n… 12,000 more characters (the download has them all)`);
  });
});

describe("Codex exec --json", () => {
  it("reads a real run: each command once (started, then completed under the same id), unwrapped from its shell, with its output and exit code", () => {
    expect(readTurn(captured("codex"), { ended: false })).toEqual([
      { kind: "notice", text: "Session started" },
      {
        kind: "tool",
        call: { id: "item_0", name: "Shell", subject: "ls missing-dir", subjectIsFile: false, status: "failed", input: "/bin/bash -lc 'ls missing-dir'", result: "ls: cannot access 'missing-dir': No such file or directory\n[exit code 2]" },
      },
      { kind: "tool", call: { id: "item_1", name: "Shell", subject: "printf 'MIT\\n' > LICENSE", subjectIsFile: false, status: "ok", input: "/bin/bash -lc \"printf 'MIT\\\\n' > LICENSE\"", result: "[exit code 0]" } },
      { kind: "text", text: "Added **LICENSE**." },
      { kind: "notice", text: "Finished · 360 tokens in, 72 out" },
    ]);
  });

  it("marks a real failed run's error once (Codex says it as `error`, then in `turn.failed`)", () => {
    expect(readTurn(captured("codex-failed"), { ended: true })).toEqual([
      { kind: "notice", text: "Session started" },
      { kind: "error", text: "exceeded retry limit, last status: 429 Too Many Requests" },
    ]);
  });

  it("shows a running command as running, and reads file changes, MCP calls, to-do lists, reasoning and item errors", () => {
    const item = (type: string, fields: object) => json({ type, item: fields });
    const lines = [
      item("item.started", { id: "item_0", type: "command_execution", command: "bash -lc 'npm test'", aggregated_output: "", exit_code: null, status: "in_progress" }),
      item("item.completed", { id: "item_1", type: "reasoning", text: "**Planning the fix**" }),
      item("item.completed", { id: "item_2", type: "file_change", changes: [{ path: "src/a.ts", kind: "update" }, { path: "src/b.ts", kind: "add" }], status: "completed" }),
      item("item.completed", { id: "item_3", type: "mcp_tool_call", server: "docs", tool: "search", arguments: { query: "zod" }, result: { content: [{ type: "text", text: "found" }], structured_content: null }, error: null, status: "completed" }),
      item("item.updated", { id: "item_4", type: "todo_list", items: [{ text: "write", completed: true }, { text: "test", completed: false }] }),
      item("item.completed", { id: "item_5", type: "error", message: "command timed out" }),
    ];
    expect(readTurn(lines, { ended: false })).toEqual([
      { kind: "tool", call: { id: "item_0", name: "Shell", subject: "npm test", subjectIsFile: false, status: "running", input: "bash -lc 'npm test'", result: null } },
      { kind: "reasoning", text: "**Planning the fix**" },
      { kind: "tool", call: { id: "item_2", name: "Edit", subject: "src/a.ts +1 more", subjectIsFile: true, status: "ok", input: "update src/a.ts\nadd src/b.ts", result: "completed" } },
      { kind: "tool", call: { id: "item_3", name: "docs/search", subject: "zod", subjectIsFile: false, status: "ok", input: '{\n  "query": "zod"\n}', result: "found" } },
      { kind: "tool", call: { id: "item_4", name: "To-do list", subject: "1 of 2 done", subjectIsFile: false, status: "running", input: "[x] write\n[ ] test", result: null } },
      { kind: "error", text: "command timed out" },
    ]);
  });
});

describe("lines that are no CLI event", () => {
  it("shows the script agent's plain lines, broken JSON and JSON of no known stream as they are", () => {
    const lines = ["script agent: wrote .agent/tasks/notes.md", "{not json", '{"type":"something.else"}', '{"level":"info"}', "[1,2]"];
    expect(readTurn(lines, { ended: true })).toEqual(lines.map((text) => ({ kind: "line", text })));
  });
});
