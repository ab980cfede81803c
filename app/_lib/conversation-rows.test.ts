import { describe, expect, it } from "vitest";
import type { OutputBatch, TaskMessageView } from "@/lib/contracts/api";
import { conversationRows, type ConversationInput, type ConversationRow } from "./conversation-rows";

const json = (event: unknown) => JSON.stringify(event);
const toolUse = (id: string, command: string) => json({ type: "assistant", message: { content: [{ type: "tool_use", id, name: "Bash", input: { command } }] } });
const toolResult = (id: string, content: string, isError = false) => json({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: id, content, is_error: isError }] } });
const text = (t: string) => json({ type: "assistant", message: { content: [{ type: "text", text: t }] } });

let ids = 0;
const batch = (turn: number, offset: number, lines: string[]): OutputBatch => ({ id: ++ids, turn, offset, lines });
const message = (id: number, body: string, fields: Partial<TaskMessageView>): TaskMessageView => ({
  id,
  clientId: `c${id}`,
  body,
  author: "person",
  status: "delivered",
  turn: 2,
  createdAt: "2026-11-01T10:00:00.000Z",
  deliveredAt: "2026-11-01T10:01:00.000Z",
  ...fields,
});

const base: ConversationInput = { prompt: "Add a license", messages: [], batches: [], retried: false, sessionStartedAt: "2026-11-01T09:59:00.000Z", working: false };

/** A row as a short string, to compare the order of a whole conversation at a glance. */
function describeRow(row: ConversationRow): string {
  if (row.kind === "prompt") return `prompt: ${row.text}`;
  if (row.kind === "message") return `message ${row.message.status}${row.earlier ? " (earlier attempt)" : ""}: ${row.message.body}`;
  if (row.kind === "agent") return `agent turn ${row.turn}${row.working ? " (working)" : ""}`;
  if (row.kind === "check") {
    const { command, lines, end } = row.check;
    const how = row.running ? "running" : end ? `exit ${end.exitCode}` : "no result";
    return `check ${command} ${how}: ${lines.join(" | ")}`;
  }
  const { item } = row;
  if (item.kind === "tool") return `tool ${item.call.subject} ${item.call.status}`;
  return `${item.kind}: ${item.text}`;
}

describe("conversationRows", () => {
  it("interleaves the person's messages with the agent's turns, a tool call paired with its result across batches", () => {
    const rows = conversationRows({
      ...base,
      messages: [message(1, "Also add a changelog", {}), message(2, "And a README", { status: "queued", turn: null, deliveredAt: null })],
      batches: [batch(1, 0, [text("I'll add it."), toolUse("t1", "touch LICENSE")]), batch(1, 40, [toolResult("t1", "")]), batch(2, 80, [toolUse("t2", "false"), toolResult("t2", "exit 1", true), "a plain line"])],
    });
    expect(rows.map(describeRow)).toEqual([
      "prompt: Add a license",
      "agent turn 1",
      "text: I'll add it.",
      "tool touch LICENSE ok",
      "message delivered: Also add a changelog",
      "agent turn 2",
      "tool false failed",
      "line: a plain line",
      "message queued: And a README",
    ]);
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
  });

  it("shows the turn the agent is working on, its open call running; once it stops, that call failed", () => {
    const batches = [batch(1, 0, [toolUse("t1", "npm test")])];
    expect(conversationRows({ ...base, batches, working: true }).map(describeRow)).toEqual(["prompt: Add a license", "agent turn 1 (working)", "tool npm test running"]);
    expect(conversationRows({ ...base, batches, working: false }).map(describeRow)).toEqual(["prompt: Add a license", "agent turn 1", "tool npm test failed"]);
    expect(conversationRows({ ...base, working: true }).map(describeRow)).toEqual(["prompt: Add a license", "agent turn 1 (working)"]);
  });

  it("keeps the keys of rows already shown when more output arrives (measured sizes stay with their rows)", () => {
    const first = batch(1, 0, [text("one"), "two"]);
    const before = conversationRows({ ...base, batches: [first] }).map((r) => r.key);
    const after = conversationRows({ ...base, batches: [first, batch(1, 10, ["three"])] }).map((r) => r.key);
    expect(after.slice(0, before.length)).toEqual(before);
  });

  it("of a retried task, sets apart the messages delivered to an earlier attempt", () => {
    const rows = conversationRows({
      ...base,
      retried: true,
      sessionStartedAt: "2026-11-01T11:00:00.000Z",
      messages: [message(1, "to attempt 1", { deliveredAt: "2026-11-01T10:30:00.000Z" }), message(2, "to attempt 2", { deliveredAt: "2026-11-01T11:05:00.000Z" })],
      batches: [batch(1, 0, ["attempt 2, turn 1"]), batch(2, 50, ["attempt 2, turn 2"])],
    });
    expect(rows.map(describeRow)).toEqual([
      "prompt: Add a license",
      "message delivered (earlier attempt): to attempt 1",
      "agent turn 1",
      "line: attempt 2, turn 1",
      "message delivered: to attempt 2",
      "agent turn 2",
      "line: attempt 2, turn 2",
    ]);
  });
});

const checkStart = (command: string, index = 0, of = 1) => json({ type: "acp.check", phase: "start", command, source: "task", index, of });
const checkEnd = (command: string, exitCode: number | null, durationMs = 1200) => json({ type: "acp.check", phase: "end", command, exitCode, durationMs, timedOut: false });

describe("conversationRows: the checks after a turn", () => {
  it("folds each command's lines between its markers into one block, after the agent's entries; a JSON line a check printed stays its output", () => {
    const rows = conversationRows({
      ...base,
      batches: [batch(1, 0, [text("Done."), checkStart("test -f README.md", 0, 2), checkEnd("test -f README.md", 0, 30), checkStart("npm test", 1, 2), "FAIL date.test.ts", text("not the agent's")]), batch(1, 90, ["1 failed", checkEnd("npm test", 1)])],
    });
    expect(rows.map(describeRow)).toEqual(["prompt: Add a license", "agent turn 1", "text: Done.", "check test -f README.md exit 0: ", `check npm test exit 1: FAIL date.test.ts | ${text("not the agent's")} | 1 failed`]);
    const check = rows.find((row) => row.kind === "check" && row.check.command === "npm test");
    expect(check).toMatchObject({ check: { source: "task", index: 1, of: 2, end: { exitCode: 1, durationMs: 1200, timedOut: false } } });
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
  });

  it("shows a check running until its end marker comes, and without a result once the turn is over without one", () => {
    const batches = [batch(1, 0, [toolUse("t1", "touch NOTES.md"), toolResult("t1", ""), checkStart("npm test"), "running 3 tests"])];
    expect(conversationRows({ ...base, batches, working: true }).map(describeRow)).toEqual(["prompt: Add a license", "agent turn 1 (working)", "tool touch NOTES.md ok", "check npm test running: running 3 tests"]);
    expect(conversationRows({ ...base, batches, working: false }).map(describeRow)).toEqual(["prompt: Add a license", "agent turn 1", "tool touch NOTES.md ok", "check npm test no result: running 3 tests"]);
  });

  it("closes the agent's calls left open once the checks start, as its turn is over", () => {
    const batches = [batch(1, 0, [toolUse("t1", "sleep 100"), checkStart("npm test")])];
    expect(conversationRows({ ...base, batches, working: true }).map(describeRow)).toEqual(["prompt: Add a license", "agent turn 1 (working)", "tool sleep 100 failed", "check npm test running: "]);
  });

  it("reads a batch stored late inside a check's output as its output, and a new turn's lines as the agent's again", () => {
    const first = batch(1, 0, [checkStart("npm test"), "line 1"]);
    const last = batch(1, 80, ["line 3", checkEnd("npm test", 0)]);
    const late = batch(1, 40, ["line 2"]);
    // The late batch read once on its own (outside a check), then again in place.
    expect(conversationRows({ ...base, batches: [late] }).map(describeRow)).toEqual(["prompt: Add a license", "agent turn 1", "line: line 2"]);
    const rows = conversationRows({ ...base, batches: [first, late, last, batch(2, 120, [checkStart("npm test"), "again"])] });
    expect(rows.map(describeRow)).toEqual(["prompt: Add a license", "agent turn 1", "check npm test exit 0: line 1 | line 2 | line 3", "agent turn 2", "check npm test no result: again"]);
  });
});
