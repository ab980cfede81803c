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
