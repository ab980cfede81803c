import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { codex } from "./codex";

describe("codex.output.runError", () => {
  it("reads the CLI's own turn events", () => {
    expect(codex.output.runError('{"type":"turn.started"}\n{"type":"turn.completed","usage":{}}')).toBeUndefined();
    expect(codex.output.runError('{"type":"turn.failed","error":{"message":"quota exceeded"}}')).toBe("quota exceeded");
    expect(codex.output.runError('{"type":"error","message":"stream disconnected"}')).toBe("stream disconnected");
  });
});

describe("codex.output.conversationId", () => {
  it("is the thread a real run started (the captured stream), for `exec resume`", () => {
    const output = fs.readFileSync(new URL("./fixtures/codex.jsonl", import.meta.url), "utf8");
    expect(codex.output.conversationId(output)).toBe("01a23262-4e24-7170-babf-8e9812d1672e");
    expect(codex.output.conversationId('{"type":"turn.started"}')).toBeUndefined();
  });
});

describe("codex.output.runError on a real failed run", () => {
  it("is the captured stream's turn.failed message", () => {
    const output = fs.readFileSync(new URL("./fixtures/codex-failed.jsonl", import.meta.url), "utf8");
    expect(codex.output.runError(output)).toBe("exceeded retry limit, last status: 429 Too Many Requests");
  });
});

describe("codex.output.usage", () => {
  it("is the captured run's turn.completed usage, with the cached input counted apart", () => {
    const output = fs.readFileSync(new URL("./fixtures/codex.jsonl", import.meta.url), "utf8");
    expect(codex.output.usage(output)).toEqual({ inputTokens: 360, outputTokens: 72, cacheReadTokens: 0, cacheWriteTokens: 0 });
    const cached = '{"type":"turn.completed","usage":{"input_tokens":1000,"cached_input_tokens":800,"output_tokens":50}}';
    expect(codex.output.usage(cached)).toEqual({ inputTokens: 200, outputTokens: 50, cacheReadTokens: 800, cacheWriteTokens: 0 });
  });

  it("is absent from a run that reported none (a failed turn, or a stream cut short)", () => {
    const failed = fs.readFileSync(new URL("./fixtures/codex-failed.jsonl", import.meta.url), "utf8");
    expect(codex.output.usage(failed)).toBeUndefined();
    expect(codex.output.usage('{"type":"turn.started"}')).toBeUndefined();
  });
});

describe("codex.output.summary", () => {
  it("is the captured run's last completed agent message", () => {
    const output = fs.readFileSync(new URL("./fixtures/codex.jsonl", import.meta.url), "utf8");
    expect(codex.output.summary(output)).toBe("Added **LICENSE**.");
  });

  it("is the newest completed agent message, never a reasoning item or one still streaming", () => {
    const output = [
      '{"type":"item.completed","item":{"id":"item_0","type":"agent_message","text":"First, the plan."}}',
      '{"type":"item.completed","item":{"id":"item_1","type":"reasoning","text":"thinking it over"}}',
      '{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"Done: the plan is carried out."}}',
      '{"type":"item.updated","item":{"id":"item_3","type":"agent_message","text":"partial"}}',
      '{"type":"turn.completed","usage":{}}',
    ].join("\n");
    expect(codex.output.summary(output)).toBe("Done: the plan is carried out.");
  });

  it("is absent from a run whose agent said nothing (the captured failed run)", () => {
    const failed = fs.readFileSync(new URL("./fixtures/codex-failed.jsonl", import.meta.url), "utf8");
    expect(codex.output.summary(failed)).toBeUndefined();
  });
});
