import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { claudeCode } from "./claude-code";

describe("claudeCode.output.runError", () => {
  it("reads the CLI's own final result event", () => {
    expect(claudeCode.output.runError('{"type":"system"}\n{"type":"result","subtype":"success","is_error":false,"result":"ok"}\n')).toBeUndefined();
    expect(claudeCode.output.runError('{"type":"result","subtype":"error_max_turns","is_error":true,"result":"too many turns"}')).toBe("error_max_turns: too many turns");
    expect(claudeCode.output.runError("not json\n")).toBeUndefined();
  });
});

describe("claudeCode.output.conversationId", () => {
  it("is the newest system event's session, for --resume", () => {
    const output = [
      '{"type":"system","subtype":"init","session_id":"first"}',
      '{"type":"assistant","message":{"content":[{"type":"text","text":"hi"}]},"session_id":"not-a-system-event"}',
      '{"type":"system","subtype":"init","session_id":"resumed"}',
      '{"type":"result","subtype":"success","is_error":false,"result":"ok","session_id":"not-a-system-event"}',
    ].join("\n");
    expect(claudeCode.output.conversationId(output)).toBe("resumed");
    expect(claudeCode.output.conversationId('not json\n{"type":"result","subtype":"success"}')).toBeUndefined();
  });
});

describe("claudeCode's event schema", () => {
  it("reads a field of an unexpected shape as absent rather than losing the event", () => {
    expect(claudeCode.output.runError('{"type":"result","subtype":"error_during_execution","is_error":true,"result":{"text":"odd"}}')).toBe("error_during_execution: no message");
  });

  it("refuses an event of no type it knows", () => {
    expect(claudeCode.output.read({ type: "thread.started", thread_id: "t" })).toBeUndefined();
    expect(claudeCode.output.read({ subtype: "init" })).toBeUndefined();
  });
});

describe("claudeCode.output.usage", () => {
  it("is the captured run's result event: its tokens and the price the CLI put on them", () => {
    const output = fs.readFileSync(new URL("./fixtures/claude-code.jsonl", import.meta.url), "utf8");
    expect(claudeCode.output.usage(output)).toEqual({ inputTokens: 480, outputTokens: 96, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.00384 });
  });

  it("counts cache reads and writes as the result reports them, and is absent before the result", () => {
    const result = '{"type":"result","subtype":"success","usage":{"input_tokens":12,"output_tokens":340,"cache_read_input_tokens":9000,"cache_creation_input_tokens":1500},"total_cost_usd":0.0421}';
    expect(claudeCode.output.usage(result)).toEqual({ inputTokens: 12, outputTokens: 340, cacheReadTokens: 9000, cacheWriteTokens: 1500, costUsd: 0.0421 });
    expect(claudeCode.output.usage('{"type":"system","subtype":"init","session_id":"s"}')).toBeUndefined();
  });
});

describe("claudeCode.output.summary", () => {
  it("is the captured run's final result text, the answer the model closed with", () => {
    const output = fs.readFileSync(new URL("./fixtures/claude-code.jsonl", import.meta.url), "utf8");
    expect(claudeCode.output.summary(output)).toBe("Done: wrote **NOTES.md**.\n\n- one\n- two");
  });

  it("is absent when the run failed (its result is the CLI's error, not the agent's words), said nothing, or has not ended", () => {
    expect(claudeCode.output.summary('{"type":"result","subtype":"error_max_turns","is_error":true,"result":"too many turns"}')).toBeUndefined();
    expect(claudeCode.output.summary('{"type":"result","subtype":"success","is_error":true,"result":"Invalid API key"}')).toBeUndefined();
    expect(claudeCode.output.summary('{"type":"result","subtype":"success","is_error":false,"result":"  \\n "}')).toBeUndefined();
    expect(claudeCode.output.summary('{"type":"assistant","message":{"content":[{"type":"text","text":"halfway"}]}}')).toBeUndefined();
  });

  it("is trimmed, and the text of the newest result when the output holds several", () => {
    const output = ['{"type":"result","subtype":"success","is_error":false,"result":"first"}', '{"type":"result","subtype":"success","is_error":false,"result":"\\n  second\\n"}'].join("\n");
    expect(claudeCode.output.summary(output)).toBe("second");
  });
});
