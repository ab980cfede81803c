import { describe, expect, it } from "vitest";
import { TaskStatus, type CandidateView, type TaskGroupView, type TaskSummary } from "@/lib/contracts/api";
import { attemptsHint, bestOfText, canPick, candidateChecksText, candidateCostText, candidateStanding, diffSizeText, listedSummary, pickBlocker, pickOutcomeText } from "./candidates";
import { CANDIDATE_STANDING_TONE, candidateChecksTone } from "./status-tone";

const candidate = (over: Partial<CandidateView>): CandidateView => ({
  taskId: "t1",
  candidate: 1,
  rank: 1,
  status: "completed",
  executionStep: null,
  branch: "agents/fix-it-t1",
  commit: "abc1234",
  checks: null,
  ci: null,
  diff: null,
  costUsd: null,
  summary: null,
  error: null,
  picked: false,
  ...over,
});

const group = (over: Partial<TaskGroupView>): TaskGroupView => ({
  id: "t1",
  size: 3,
  candidates: [candidate({ taskId: "t1", candidate: 1, rank: 2 }), candidate({ taskId: "t2", candidate: 2, rank: 1 }), candidate({ taskId: "t3", candidate: 3, rank: 3 })],
  pickedTaskId: null,
  pickedAt: null,
  otherBranches: null,
  ...over,
});

describe("best of N in words", () => {
  it("says a diff's size with a true minus sign, one file in the singular, and none before a turn reported one", () => {
    expect(diffSizeText({ files: 3, added: 12, removed: 4 })).toBe("3 files, +12 \u22124");
    expect(diffSizeText({ files: 1, added: 1, removed: 0 })).toBe("1 file, +1 \u22120");
    expect(diffSizeText(null)).toBe("no diff yet");
    expect(candidateCostText(0.4212)).toBe("$0.42");
    expect(candidateCostText(null)).toBe("—");
  });

  it("says a candidate's checks as the Checks card does, or why there are none", () => {
    expect(candidateChecksText(candidate({ checks: { state: "passed", summary: "checks passed (round 1)" } }))).toBe("Checks passed (round 1)");
    expect(candidateChecksText(candidate({ status: "in_progress" }))).toBe("Checks not run yet");
    expect(candidateChecksText(candidate({ status: "completed" }))).toBe("No checks ran");
    expect(candidateChecksTone({ state: "passed" })).toBe("good");
    expect(candidateChecksTone({ state: "failing" })).toBe("bad");
    expect(candidateChecksTone(null)).toBe("quiet");
  });

  it("lets only completed work with a commit be picked, once, and says why not otherwise", () => {
    const open = group({});
    expect(canPick(open, candidate({}))).toBe(true);
    expect(pickBlocker(open, candidate({}))).toBeUndefined();
    expect(pickBlocker(open, candidate({ commit: null }))).toBe("It made no commit to pick");
    expect(pickBlocker(open, candidate({ status: "failed" }))).toBe("It failed: nothing to pick");
    expect(pickBlocker(open, candidate({ status: "cancelled" }))).toBe("It was cancelled");
    for (const status of ["queued", "delegated", "in_progress"] as const) expect(pickBlocker(open, candidate({ status })), status).toBe("It is still working");
    for (const status of TaskStatus.options) expect(canPick(open, candidate({ status })), status).toBe(status === "completed");
    const picked = group({ pickedTaskId: "t2" });
    expect(canPick(picked, candidate({ taskId: "t1" }))).toBe(false);
    expect(pickBlocker(picked, candidate({ taskId: "t1" }))).toBeUndefined();
  });

  it("marks the picked one and passes over the rest once a pick is made", () => {
    expect(candidateStanding(group({}), { taskId: "t1" })).toBe("open");
    expect(candidateStanding(group({ pickedTaskId: "t2" }), { taskId: "t2" })).toBe("picked");
    expect(candidateStanding(group({ pickedTaskId: "t2" }), { taskId: "t1" })).toBe("passed-over");
    expect(CANDIDATE_STANDING_TONE.picked).toBe("good");
  });

  it("says what the pick did to the other branches", () => {
    expect(pickOutcomeText(group({}))).toBeUndefined();
    expect(pickOutcomeText(group({ pickedTaskId: "t2", otherBranches: "deleted" }))).toBe("Candidate 2 was picked: its branch is the task's work. The other 2 candidates' branches were deleted.");
    expect(pickOutcomeText(group({ pickedTaskId: "t3", otherBranches: "kept" }))).toBe("Candidate 3 was picked: its branch is the task's work. The other 2 candidates' branches were kept: they stay in the repository.");
    const pair = group({ size: 2, candidates: [candidate({ taskId: "t1" }), candidate({ taskId: "t2", candidate: 2 })], pickedTaskId: "t1", otherBranches: "kept" });
    expect(pickOutcomeText(pair)).toBe("Candidate 1 was picked: its branch is the task's work. The other candidate's branch was kept: it stays in the repository.");
  });

  it("hints what attempts do on the form, and names a submission of several in the list", () => {
    expect(attemptsHint(1)).toMatch(/^One agent works on it/);
    expect(attemptsHint(3)).toMatch(/^3 agents work side by side/);
    expect(bestOfText(3)).toBe("best of 3");
  });
});

describe("a candidate's page and the list", () => {
  const summary: TaskSummary = {
    id: "t1",
    repository: "/srv/app",
    prompt: "Fix it",
    agent: "script",
    status: "in_progress",
    executionStep: "running",
    branch: "agents/fix-it-t1",
    model: null,
    baseBranch: "main",
    commit: null,
    usage: null,
    createdAt: "2026-12-07T15:00:00.000Z",
    updatedAt: "2026-12-07T15:00:00.000Z",
  };

  it("lists a submission once, as its first candidate with how many it has, and never another candidate", () => {
    expect(listedSummary({ ...summary, group: null })).toEqual(summary);
    expect(listedSummary({ ...summary, group: { id: "t1", size: 3 } })).toEqual({ ...summary, candidates: 3 });
    expect(listedSummary({ ...summary, id: "t2", group: { id: "t1", size: 3 } })).toBeUndefined();
  });
});
