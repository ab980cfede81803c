import { describe, expect, it } from "vitest";
import { CreateTaskRequest, Repository } from "./api";
import { AgentCompletedCallback, AgentOutputCallback, BranchName, Id, NodeReadyCallback, ProvisioningFailedCallback, SecretName, SessionSecrets, callbackPaths, vmAgentPaths } from "./vm-agent";

describe("Repository", () => {
  it.each(["/srv/repos/app", "https://github.com/org/repo.git", "ssh://git@host/org/repo", "git@github.com:org/repo.git", "file:///tmp/repo", "https://x-access-token@github.com/org/repo.git"])(
    "accepts %s",
    (value) => expect(Repository.safeParse(value).success).toBe(true),
  );
  it.each(["", "relative/path", "ftp://host/repo", "--upload-pack=evil", "https://host/has space", "https://x-access-token:ghp_secret@github.com/org/repo.git", "https://:ghp_secret@github.com/o/r"])("refuses %j", (value) =>
    expect(Repository.safeParse(value).success).toBe(false),
  );
});

describe("CreateTaskRequest", () => {
  it("defaults the agent to script and one attempt, and trims the prompt", () => {
    expect(CreateTaskRequest.parse({ repository: "/r", prompt: "  do it  " })).toEqual({ repository: "/r", prompt: "do it", agent: "script", attempts: 1 });
  });
  it("takes 1 to 4 attempts and a budget in whole cents, naming the field that is wrong", () => {
    expect(CreateTaskRequest.parse({ repository: "/r", prompt: "x", attempts: 4, budgetUsd: 2.5 })).toMatchObject({ attempts: 4, budgetUsd: 2.5 });
    for (const [body, field] of [
      [{ attempts: 0 }, "attempts"],
      [{ attempts: 5 }, "attempts"],
      [{ attempts: 1.5 }, "attempts"],
      [{ budgetUsd: -1 }, "budgetUsd"],
      [{ budgetUsd: 0.001 }, "budgetUsd"],
      [{ budgetUsd: "2" }, "budgetUsd"],
    ] as const) {
      const result = CreateTaskRequest.safeParse({ repository: "/r", prompt: "x", ...body });
      expect(result.error?.issues[0]?.path, JSON.stringify(body)).toEqual([field]);
    }
  });
  it("names the field that is wrong", () => {
    const result = CreateTaskRequest.safeParse({ repository: "/r", prompt: "x", agent: "gpt-7" });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["agent"]);
  });
});

describe("BranchName and Id", () => {
  it.each(["agents/add-docs-1a2b3c4d", "feature/x.y", "main"])("accepts the branch %s", (b) => expect(BranchName.safeParse(b).success).toBe(true));
  it.each(["-x", "a..b", "a b", "a;b", "$(id)", "a//b", "ends/", "ends.", "a`b`"])("refuses the branch %j", (b) =>
    expect(BranchName.safeParse(b).success).toBe(false),
  );
  it.each(["w_3f9c2a7e-1b2c", "n_x", "abc"])("accepts the id %s", (id) => expect(Id.safeParse(id).success).toBe(true));
  it.each(["", "../x", "a/b", "a.b", "x".repeat(65)])("refuses the id %j", (id) => expect(Id.safeParse(id).success).toBe(false));
});

describe("secrets", () => {
  it("a person stores a HETZNER_TOKEN, and it never travels to a node", () => {
    expect(SecretName.safeParse("HETZNER_TOKEN").success).toBe(true);
    expect(SessionSecrets.safeParse({ GITHUB_TOKEN: "ghp_x" }).success).toBe(true);
    expect(SessionSecrets.safeParse({ HETZNER_TOKEN: "hz" }).success).toBe(false);
  });
});

describe("paths and callbacks", () => {
  it("spells each path once for both sides", () => {
    expect(callbackPaths.agentCompleted("s_1")).toBe("/api/agent-sessions/s_1/completed");
    expect(vmAgentPaths.startAgentSession("w_1", "s_1")).toBe("/workspaces/w_1/agent-sessions/s_1/start");
  });
  it("requires a full commit sha or null in a completion", () => {
    const base = { messageId: "m", workspaceId: "w_1", outcome: "succeeded", exitCode: 0, branch: "agents/a-1", pushed: false };
    expect(AgentCompletedCallback.safeParse({ ...base, commit: null }).success).toBe(true);
    expect(AgentCompletedCallback.safeParse({ ...base, commit: "abc123" }).success).toBe(false);
  });
});

describe("text Postgres cannot store", () => {
  it("is refused in what a person sends, naming the field", () => {
    const result = CreateTaskRequest.safeParse({ repository: "/tmp/r", prompt: "a\u0000b" });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ path: ["prompt"], message: "must not contain NUL bytes" });
    expect(Repository.safeParse("/tmp/\u0000").success).toBe(false);
  });

  it("is kept visibly in what a node reports", () => {
    const failed = ProvisioningFailedCallback.parse({ messageId: "m-1", stage: "clone", error: "fatal:\u0000 bad" });
    expect(failed.error).toBe("fatal:\u2400 bad");
    const output = AgentOutputCallback.parse({ messageId: "s_1-out-0", workspaceId: "w_1", turn: 1, offset: 0, lines: ["a\u0000b"] });
    expect(output.lines).toEqual(["a\u2400b"]);
    expect(ProvisioningFailedCallback.safeParse({ messageId: "m\u00001", stage: "clone", error: "x" }).success).toBe(false);
  });
});

describe("NodeReadyCallback", () => {
  const ready = { endpoint: "https://203.0.113.7:8443", certificateFingerprint: Array.from({ length: 32 }, () => "A0").join(":"), version: "0.1.0", contractVersion: 2 };
  it("takes an https endpoint with the fingerprint of the certificate it serves", () => {
    expect(NodeReadyCallback.parse(ready)).toEqual(ready);
  });
  it.each([
    [{ endpoint: "http://203.0.113.7:8443" }, "endpoint"],
    [{ certificateFingerprint: undefined }, "certificateFingerprint"],
    [{ certificateFingerprint: ready.certificateFingerprint.toLowerCase() }, "certificateFingerprint"],
    [{ certificateFingerprint: ready.certificateFingerprint.replaceAll(":", "") }, "certificateFingerprint"],
    [{ certificateFingerprint: ready.certificateFingerprint.slice(3) }, "certificateFingerprint"],
  ])("refuses %j, naming the field", (change, field) => {
    const result = NodeReadyCallback.safeParse({ ...ready, ...change });
    expect(result.error?.issues[0]?.path).toEqual([field]);
  });
});
