/**
 * The walking skeleton end to end: the real app, the real Inngest server, real PostgreSQL, a real
 * vm-agent process on a local node, real git.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { errors, nodes, workspaces } from "@/db/schema";
import type { TaskDetail, TaskRecord } from "@/lib/contracts/api";
import { commitOnBranch, git, makeRepo } from "../harness/git";
import { untilFinished, watchTask } from "../harness/live-client";
import { sharedTempDir } from "../harness/shared-dir";
import { startTestSystem, type TestSystem } from "../harness/test-system";

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem();
});
afterAll(async () => system?.stop());

async function submit(repository: string, prompt: string, extra: Record<string, unknown> = {}) {
  const { status, body } = await system.api("POST", "/api/tasks", { repository, prompt, ...extra });
  expect(status, JSON.stringify(body)).toBe(202);
  return body as { taskId: string; branch: string; status: string };
}

describe("a submitted task", () => {
  it("runs queued → delegated → in_progress → completed and pushes its branch", async () => {
    const repo = makeRepo();
    const { taskId, branch, status } = await submit(repo, "Add a greeting to the README");
    expect(status).toBe("queued");
    expect(branch).toMatch(/^agents\/add-a-greeting-to-the-readme-[0-9a-f]{8}$/);

    const { done, statuses } = await untilFinished(system, taskId, 90_000);

    expect(done.status, done.error ?? "").toBe("completed");
    expect(statuses.filter((s) => s !== "queued")).toEqual(["delegated", "in_progress", "completed"]);
    expect(done.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(done.pushed).toBe(true);
    // The branch landed in the origin repository with the agent's change on it.
    expect(git(repo, "rev-parse", branch)).toBe(done.commit);
    const files = git(repo, "ls-tree", "-r", "--name-only", branch);
    expect(files).toMatch(/^\.agent\/tasks\/.+\.md$/m);

    const steps = done.steps.map((s) => [s.step, s.status]);
    expect(steps).toEqual([
      ["node_selection", "succeeded"],
      ["node_provisioning", "succeeded"],
      ["node_agent_ready", "succeeded"],
      ["workspace_creation", "succeeded"],
      ["workspace_ready", "succeeded"],
      ["agent_session", "succeeded"],
      ["running", "succeeded"],
      ["cleanup", "succeeded"],
    ]);
    for (const step of done.steps) expect(step.durationMs).toBeGreaterThanOrEqual(0);
    // The agent's own output travelled from the node to the task.
    expect(done.output.lines.join("\n")).toMatch(/script agent: wrote \.agent\/tasks\/add-a-greeting-to-the-readme\.md/);

    // Cleanup stopped the workspace; the node stays, warm for the next task (the product's warm pool;
    // with it off the node goes with its task: hetzner-node.test.ts, callbacks.test.ts).
    const [workspace] = await system.database.db.select().from(workspaces).where(eq(workspaces.taskId, taskId));
    expect(workspace?.status).toBe("stopped");
    const [node] = await system.database.db.select().from(nodes).where(eq(nodes.id, workspace!.nodeId));
    expect(node).toMatchObject({ status: "running", warmSince: expect.any(Date) });
  });

  it("starts its branch from the repository's branch it names, and refuses one the repository does not have", async () => {
    const repo = makeRepo();
    const releaseHead = commitOnBranch(repo, "release/2.0", { "RELEASE.md": "2.0\n" });

    const missing = await system.api("POST", "/api/tasks", { repository: repo, prompt: "On a branch that is not there", baseBranch: "release/3.0" });
    expect(missing).toMatchObject({ status: 422, body: { field: "baseBranch", error: "the repository has no branch release/3.0; its branches: main, release/2.0" } });
    const malformed = await system.api("POST", "/api/tasks", { repository: repo, prompt: "Hostile base", baseBranch: "main; rm -rf /" });
    expect(malformed).toMatchObject({ status: 422, body: { field: "baseBranch" } });

    const { taskId, branch } = await submit(repo, "Patch the release", { baseBranch: "release/2.0" });
    const { done } = await untilFinished(system, taskId, 90_000);
    expect(done.status, done.error ?? "").toBe("completed");
    expect(done.baseBranch).toBe("release/2.0");
    expect(git(repo, "rev-parse", `${branch}^`)).toBe(releaseHead);

    const byDefault = await submit(repo, "Patch main");
    const { done: fromMain } = await untilFinished(system, byDefault.taskId, 90_000);
    expect(fromMain.baseBranch).toBe("main");
    expect(git(repo, "rev-parse", `${byDefault.branch}^`)).toBe(git(repo, "rev-parse", "main"));
  });

  it("runs again on retry after a failure, on the same branch, keeping the failed attempt's steps, error and output", async () => {
    const gate = sharedTempDir("acp-retry-");
    const repo = makeRepo({ ".agent/setup.sh": `test -e '${gate}/go' || { echo "setup is not ready yet" >&2; exit 1; }\n` });
    const { taskId, branch } = await submit(repo, "Try until setup is ready");
    const { done: failed } = await untilFinished(system, taskId, 90_000);
    expect(failed.status).toBe("failed");
    expect(failed.error).toContain("setup is not ready yet");

    fs.writeFileSync(path.join(gate, "go"), "");
    const retried = await system.api("POST", `/api/tasks/${taskId}/retry`);
    expect(retried).toEqual({ status: 202, body: { taskId, status: "queued", attempt: 2 } });
    // A second retry while it runs is refused: only a failed or cancelled task is retried.
    expect((await system.api("POST", `/api/tasks/${taskId}/retry`)).status).toBe(409);

    const { done, statuses } = await untilFinished(system, taskId, 90_000);
    expect(done.status, done.error ?? "").toBe("completed");
    expect(statuses).not.toContain("failed");
    expect(done.branch).toBe(branch);
    expect(git(repo, "rev-parse", branch)).toBe(done.commit);
    expect(done.error).toBeNull();
    expect(done.steps.map((s) => [s.step, s.status])).toContainEqual(["workspace_ready", "succeeded"]);
    expect(done.attempts).toHaveLength(1);
    const [first] = done.attempts;
    expect(first).toMatchObject({ attempt: 1, status: "failed", error: expect.stringContaining("setup is not ready yet"), commit: null });
    expect(first!.steps.map((s) => [s.step, s.status])).toContainEqual(["workspace_ready", "failed"]);
    // The current attempt's output is its own.
    expect(done.output.lines.join("\n")).toContain("script agent: wrote");
    // The whole record covers both attempts: the first failed before any turn, the second's turn is there.
    const record = (await system.api("GET", `/api/tasks/${taskId}/record`)).body as TaskRecord;
    expect(record.attempts.map((a) => [a.attempt, a.status, a.turns.length])).toEqual([
      [1, "failed", 0],
      [2, "completed", 1],
    ]);
    expect(record.attempts[1]!.turns[0]).toMatchObject({ turn: 1, commit: done.commit, pushed: true });

    expect((await system.api("POST", `/api/tasks/${taskId}/retry`)).status).toBe(409);
    expect((await system.api("POST", "/api/tasks/00000000-0000-4000-8000-000000000000/retry")).status).toBe(404);
  });

  it("says why when a turn's work could not be pushed, and keeps it committed on the node", async () => {
    const repo = makeRepo();
    fs.writeFileSync(path.join(repo, ".git", "hooks", "pre-receive"), "#!/bin/sh\necho 'pushes are frozen today' >&2\nexit 1\n", { mode: 0o755 });
    const { taskId, branch } = await submit(repo, "Work that cannot land");
    const { done } = await untilFinished(system, taskId, 90_000);
    expect(done.status, done.error ?? "").toBe("completed");
    expect(done.pushed).toBe(false);
    expect(done.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(done.session?.error).toMatch(/^push failed: .*pushes are frozen today/s);
    expect(() => git(repo, "rev-parse", "--verify", "--quiet", branch)).toThrow();
    // Cleanup did not delete the unpushed work: it is held on its node for the person's decision,
    // and the node (which it keeps a slot of) is not destroyed under it.
    const [workspace] = await system.database.db.select().from(workspaces).where(eq(workspaces.taskId, taskId));
    expect(workspace?.purgedAt).toBeNull();
    expect(workspace?.heldAt).not.toBeNull();
    expect(done.heldWork).toMatchObject({ workspaceId: workspace!.id, nodeId: done.node!.id, error: expect.stringContaining("pushes are frozen today") });
    const [node] = await system.database.db.select().from(nodes).where(eq(nodes.id, done.node!.id));
    expect(node?.status).toBe("running");

    // Still refused: said so, and the work stays held.
    expect(await system.api("POST", `/api/tasks/${taskId}/push`)).toMatchObject({ status: 200, body: { pushed: false, error: expect.stringContaining("pushes are frozen today") } });
    expect((await system.api("GET", `/api/tasks/${taskId}`)).body.heldWork).not.toBeNull();

    // The remote takes pushes again: "push again" lands the very commit, then lets the workspace go.
    fs.rmSync(path.join(repo, ".git", "hooks", "pre-receive"));
    expect(await system.api("POST", `/api/tasks/${taskId}/push`)).toEqual({ status: 200, body: { pushed: true, commit: done.commit, error: null } });
    expect(git(repo, "rev-parse", branch)).toBe(done.commit);
    const after = (await system.api("GET", `/api/tasks/${taskId}`)).body as TaskDetail;
    expect(after).toMatchObject({ pushed: true, heldWork: null });
    const [released] = await system.database.db.select().from(workspaces).where(eq(workspaces.taskId, taskId));
    expect(released).toMatchObject({ heldAt: null, purgedAt: expect.any(Date) });
    expect((await system.api("POST", `/api/tasks/${taskId}/push`)).status).toBe(409);
    expect((await system.api("POST", "/api/tasks/00000000-0000-4000-8000-000000000000/push")).status).toBe(404);
  });

  it("discards held work only when the person says so", async () => {
    const repo = makeRepo();
    fs.writeFileSync(path.join(repo, ".git", "hooks", "pre-receive"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    const { taskId, branch } = await submit(repo, "Work nobody wants");
    const { done } = await untilFinished(system, taskId, 90_000);
    expect(done.heldWork).not.toBeNull();
    expect(await system.api("POST", `/api/tasks/${taskId}/discard`)).toEqual({ status: 200, body: { discarded: true } });
    expect((await system.api("GET", `/api/tasks/${taskId}`)).body.heldWork).toBeNull();
    const [workspace] = await system.database.db.select().from(workspaces).where(eq(workspaces.taskId, taskId));
    expect(workspace?.purgedAt).not.toBeNull();
    expect(() => git(repo, "rev-parse", "--verify", "--quiet", branch)).toThrow();
    expect((await system.api("POST", `/api/tasks/${taskId}/discard`)).status).toBe(409);
  });

  it("fails at once with the setup script's message when provisioning fails", async () => {
    const repo = makeRepo({ ".agent/setup.sh": "echo 'installing deps'\necho 'npm ERR! missing lockfile' >&2\nexit 7\n" });
    const { taskId } = await submit(repo, "Provisioning will fail");
    const { done } = await untilFinished(system, taskId, 60_000);

    expect(done.status).toBe("failed");
    expect(done.error).toContain("workspace provisioning failed (setup)");
    expect(done.error).toContain("npm ERR! missing lockfile");
    expect(done.workspace?.status).toBe("error");
    const recorded = await system.database.db.select().from(errors).where(eq(errors.taskId, taskId));
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ step: "workspace_ready", workspaceId: done.workspace!.id });

    // The boot log: every stage with its duration, the failing one named, and the script's output.
    const watch = await watchTask(system, taskId);
    try {
      const logged = await watch.until((t) => t.bootLog.stages.some((s) => s.stage === "setup" && s.status === "failed") && t.bootLog.setupOutput.length === 2, 30_000, "the boot log");
      const stages = logged.bootLog.stages;
      expect(stages.map((s) => `${s.stage}:${s.status}`)).toEqual(["workspace-user:succeeded", "clone:succeeded", "branch:succeeded", "git-identity:succeeded", "git-credentials:succeeded", "handover:succeeded", "network:succeeded", "setup:failed"]);
      for (const stage of stages) expect(stage.durationMs).toEqual(expect.any(Number));
      expect(stages.at(-1)!.detail).toMatch(/^\.agent\/setup\.sh: setup \(\.agent\/setup\.sh\) failed \(exit 7\): npm ERR! missing lockfile/);
      expect([...logged.bootLog.setupOutput].sort()).toEqual(["installing deps", "npm ERR! missing lockfile"]);
    } finally {
      watch.close();
    }
  });

  it("fails within seconds with the node's message when a step fails for good", async () => {
    const missing = path.join(fs.mkdtempSync("/tmp/acp-missing-"), "no-such-repo");
    const started = Date.now();
    const { taskId } = await submit(missing, "The node refuses this workspace");
    const { done } = await untilFinished(system, taskId, 30_000);

    expect(done.status).toBe("failed");
    expect(done.error).toContain("does not exist");
    expect(done.steps.find((s) => s.step === "workspace_creation")?.status).toBe("failed");
    // No retries for a refusal: the whole run takes seconds, not the retry schedule's minutes.
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

describe("the submit route", () => {
  it.each([
    [{ prompt: "x" }, "repository"],
    [{ repository: "relative/path", prompt: "x" }, "repository"],
    [{ repository: "/tmp/repo" }, "prompt"],
    [{ repository: "/tmp/repo", prompt: "   " }, "prompt"],
    [{ repository: "/tmp/repo", prompt: "x", agent: "gpt-7" }, "agent"],
  ])("answers 422 naming the bad field for %j", async (body, field) => {
    const { status, body: answer } = await system.api("POST", "/api/tasks", body);
    expect(status).toBe(422);
    expect(answer.field).toBe(field);
  });

  it("answers 400 for a body that is not JSON", async () => {
    const { status, body } = await system.api("POST", "/api/tasks", "{not json");
    expect(status).toBe(400);
    expect(body.error).toMatch(/not valid JSON/);
  });

  it("answers 404 for an unknown task and 400 for a malformed id", async () => {
    expect((await system.api("GET", "/api/tasks/00000000-0000-0000-0000-000000000000")).status).toBe(404);
    expect((await system.api("GET", "/api/tasks/..%2F..%2Fetc")).status).toBe(400);
  });
});
