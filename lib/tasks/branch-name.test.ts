import { describe, expect, it } from "vitest";
import { BranchName } from "../contracts/vm-agent";
import { branchName } from "./branch-name";

describe("branchName", () => {
  const id = "3f9c2a7e-1b2c-4d5e-8f90-123456789abc";

  it("slugs the prompt and ends with the task id", () => {
    expect(branchName("agents/", "Add rate limiting to the login route", id, 60)).toBe(
      "agents/add-rate-limiting-to-the-login-route-3f9c2a7e",
    );
  });

  it("never exceeds the maximum length and never ends on a dash", () => {
    const name = branchName("agents/", "word ".repeat(50), id, 40);
    expect(name.length).toBeLessThanOrEqual(40);
    expect(name).toMatch(/^agents\/[a-z0-9-]+[a-z0-9]-3f9c2a7e$/);
  });

  it("turns shell metacharacters and quotes into a safe git branch name", () => {
    const name = branchName("agents/", `$(rm -rf /); echo "hi" && \`id\` ../..`, id, 60);
    expect(BranchName.safeParse(name).success).toBe(true);
    expect(name).toBe("agents/rm-rf-echo-hi-id-3f9c2a7e");
  });

  it("falls back to 'task' when the prompt has no letters or digits", () => {
    expect(branchName("agents/", "!!! ???", id, 60)).toBe("agents/task-3f9c2a7e");
  });
});
