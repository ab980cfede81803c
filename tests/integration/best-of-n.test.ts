/**
 * Best of N, end to end: the real app, engine, database and local nodes, a repository on the
 * GitHub double. Three agents work on the same task side by side, each on its own branch from the
 * same base; each runs the task's checks; the comparison ranks the one whose checks pass first; no
 * candidate opens a pull request until the person picks one, which alone gets it, and the others'
 * branches are deleted as the person asked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CreateTaskResponse, TaskDetail, TaskSummary } from "@/lib/contracts/api";
import { startGithubWithRepository } from "../doubles/github-rest";
import { untilFinished } from "../harness/live-client";
import { sharedTempDir } from "../harness/shared-dir";
import { startTestSystem, type TestSystem } from "../harness/test-system";

const TOKEN = "ghp_best_of_n";
let github: Awaited<ReturnType<typeof startGithubWithRepository>>;
let system: TestSystem;
const marks = sharedTempDir("acp-best-of-n-");

/** The first candidate to run takes the mark and does the work the checks want; the others write something else. */
const AGENT = `if mkdir '${marks}/first' 2>/dev/null; then echo done > FIXED; echo "the fix" > NOTES.md; else printf 'a\\nb\\nc\\n' > NOTES.md; fi`;

beforeAll(async () => {
  github = await startGithubWithRepository({ token: TOKEN });
  system = await startTestSystem({
    SCRIPT_AGENT_COMMAND: AGENT,
    // Follow-ups are waited for, as people run it; candidates still end on their own.
    SESSION_IDLE_TIMEOUT: "10m",
    // One round: a failing candidate is not asked to fix its checks (the agent here would not).
    MAX_CHECK_ROUNDS: "1",
    ...github.systemEnv,
  });
  expect((await system.api("PUT", "/api/secrets/GITHUB_TOKEN", { value: TOKEN })).status).toBe(200);
});
afterAll(async () => {
  await system?.stop();
  await github?.close();
});

describe("best of N", () => {
  it("runs three candidates, ranks the one whose checks pass first, and gives the pick the one pull request", async () => {
    expect(await system.api("POST", "/api/tasks", { repository: github.repository, prompt: "Fix it", attempts: 5 })).toMatchObject({ status: 422, body: { field: "attempts" } });
    const submitted = await system.api("POST", "/api/tasks", { repository: github.repository, prompt: "Fix it", attempts: 3, checks: ["test -f FIXED"] });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
    const { taskId, candidates } = submitted.body as CreateTaskResponse;
    expect(candidates).toHaveLength(3);
    expect(candidates![0]!.taskId).toBe(taskId);
    expect(new Set(candidates!.map((c) => c.branch)).size).toBe(3);

    // The list shows the submission once.
    const listed = ((await system.api("GET", "/api/tasks")).body as { tasks: TaskSummary[] }).tasks.filter((t) => candidates!.some((c) => c.taskId === t.id));
    expect(listed).toEqual([expect.objectContaining({ id: taskId, candidates: 3 })]);

    const done = await Promise.all(candidates!.map((c) => untilFinished(system, c.taskId, 120_000)));
    for (const { done: d } of done) expect(d.status, d.error ?? "").toBe("completed");
    // Each pushed its own branch from the same base, and none opened a pull request.
    expect(github.pulls).toEqual([]);
    for (const c of candidates!) expect(github.git.branch(c.branch)).toBeTruthy();

    const { body: detail } = (await system.api("GET", `/api/tasks/${taskId}`)) as { body: TaskDetail };
    const group = detail.group!;
    expect(group).toMatchObject({ id: taskId, size: 3, pickedTaskId: null });
    const [best, ...rest] = group.candidates;
    expect(best).toMatchObject({ rank: 1, status: "completed", checks: { state: "passed" }, picked: false });
    expect(rest.map((c) => [c.rank, c.checks?.state])).toEqual([
      [2, "failing"],
      [3, "failing"],
    ]);
    // Every candidate's page shows the same comparison.
    const sibling = (await system.api("GET", `/api/tasks/${rest[0]!.taskId}`)).body as TaskDetail;
    expect(sibling.group?.candidates.map((c) => c.taskId)).toEqual(group.candidates.map((c) => c.taskId));

    expect(await system.api("POST", `/api/tasks/${taskId}/pick`, { taskId: "not-a-candidate" })).toMatchObject({ status: 422, body: { field: "taskId" } });
    const picked = await system.api("POST", `/api/tasks/${rest[1]!.taskId}/pick`, { taskId: best!.taskId, otherBranches: "delete" });
    expect(picked.status, JSON.stringify(picked.body)).toBe(200);
    expect(picked.body).toMatchObject({ pickedTaskId: best!.taskId, otherBranches: "deleted" });
    // The pick alone has the pull request; the others' branches are gone, its own is there.
    expect(github.pulls).toEqual([expect.objectContaining({ head: best!.branch, draft: false })]);
    for (const other of rest) expect(github.git.branch(other.branch)).toBeUndefined();
    expect(github.git.branch(best!.branch)).toBe(best!.commit);
    expect(((await system.api("GET", `/api/tasks/${best!.taskId}`)).body as TaskDetail).pullRequest).toMatchObject({ number: github.pulls[0]!.number });
    expect(await system.api("POST", `/api/tasks/${taskId}/pick`, { taskId: rest[0]!.taskId })).toMatchObject({ status: 409 });
  });
});
