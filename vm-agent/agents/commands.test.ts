import { describe, expect, it } from "vitest";
import { inheritedEnvironment } from "../config";
import { AGENT_HOME_FOLDERS, agentEnvironment, modelApiHost } from "./commands";

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

describe("an agent's environment", () => {
  it("carries the daemon's inherited variables an agent may see, never its tokens, and its own on top", () => {
    const inherited = inheritedEnvironment({
      NODE_CALLBACK_TOKEN: "secret-node-token",
      PATH: "/usr/bin:/bin",
      HOME: "/root",
      LANG: "C.UTF-8",
      SSH_AUTH_SOCK: "/run/ssh.sock",
      NODE_EXTRA_CA_CERTS: "/etc/ca.pem",
    });
    const env = agentEnvironment(inherited, { HOME: "/home/w_1", AGENT_SESSION_ID: "s_1" });
    expect(env).toEqual({ PATH: "/usr/bin:/bin", HOME: "/home/w_1", LANG: "C.UTF-8", NODE_EXTRA_CA_CERTS: "/etc/ca.pem", AGENT_SESSION_ID: "s_1" });
  });
});
