import { describe, expect, it } from "vitest";
import { AGENT_HOME_FOLDERS, modelApiHost } from "./commands";

describe("modelApiHost", () => {
  it("is the host:port of the base URL the node's setting names (the adapter says which), else the vendor's", () => {
    expect(modelApiHost("claude-code", {})).toBe("api.anthropic.com:443");
    expect(modelApiHost("codex", {})).toBe("api.openai.com:443");
    expect(modelApiHost("claude-code", { ANTHROPIC_BASE_URL: "http://10.0.0.7:8080", OPENAI_BASE_URL: "http://other:1" })).toBe("10.0.0.7:8080");
    expect(modelApiHost("codex", { OPENAI_BASE_URL: "http://models.internal/v1" })).toBe("models.internal:80");
  });

  it("is none for an agent without a model API", () => {
    expect(modelApiHost("script", { ANTHROPIC_BASE_URL: "http://10.0.0.7:8080" })).toBeUndefined();
  });
});

describe("AGENT_HOME_FOLDERS", () => {
  it("holds each CLI's folder in the HOME, which its launch prepares while the HOME is held", () => {
    expect([...AGENT_HOME_FOLDERS].sort()).toEqual([".claude", ".codex"]);
  });
});
