/**
 * "Done only with evidence", end to end: the real app, engine, database and a local node. After
 * each turn the node runs the repository's checks; a failing round gets a follow-up written by the
 * system, delivered to the same session as its next turn, up to MAX_CHECK_ROUNDS in a row.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskDetail } from "@/lib/contracts/api";
import { git, makeRepo } from "../harness/git";
import { untilFinished, untilTask } from "../harness/live-client";
import { startTestSystem, type TestSystem } from "../harness/test-system";

/** package.json's test script fails until a file named FIXED exists. */
const FAILING_UNTIL_FIXED = JSON.stringify({ name: "demo", scripts: { test: "test -f FIXED || { echo 'FIXED is missing' >&2; exit 1; }" } });

/**
 * The agent: its prompt is a shell script when it starts with `run:`; otherwise (the system's
 * follow-up about failed checks) it fixes the repository if the prompt says FIXED is missing and
 * the task's repository lets it (a FIX_ALLOWED file), else it only writes a note.
 */
const AGENT = [
  'case "$AGENT_PROMPT" in',
  '  run:*) eval "${AGENT_PROMPT#run:}" ;;',
  '  *"FIXED is missing"*) if [ -f FIX_ALLOWED ]; then touch FIXED; else echo tried >> ATTEMPTS; fi ;;',
  "  *) echo unexpected >> ATTEMPTS ;;",
  "esac",
].join("\n");

let system: TestSystem;
beforeAll(async () => {
  system = await startTestSystem({ SCRIPT_AGENT_COMMAND: AGENT, SESSION_IDLE_TIMEOUT: "10m" });
});
afterAll(async () => system?.stop());

const until = (taskId: string, predicate: (t: TaskDetail) => boolean, what: string) => untilTask(system, taskId, predicate, what, 90_000);
const waitingForThePerson = (t: TaskDetail) => t.executionStep === "awaiting_followup" && !t.messages.some((m) => m.status === "queued");

describe("checks after every turn", () => {
  it("the Tried line: a failing test script is reported, sent back to the agent, and passes in round 2; then the task waits for the person", async () => {
    const repo = makeRepo({ "package.json": FAILING_UNTIL_FIXED, FIX_ALLOWED: "" });
    const { body } = await system.api("POST", "/api/tasks", { repository: repo, prompt: "run:echo notes > NOTES.md" });
    const taskId = body.taskId as string;
    const passed = await until(taskId, (t) => t.checks?.state === "passed" && waitingForThePerson(t), "checks passed");
    expect(passed.checks).toMatchObject({ turn: 2, round: 2, maxRounds: 3, summary: "checks passed (round 2)", result: { source: "package.json", passed: true, commands: [{ command: "npm test", exitCode: 0 }] } });
    // The system's follow-up carried the failing command and its output, and was turn 2's prompt.
    expect(passed.messages).toHaveLength(1);
    const [followup] = passed.messages;
    expect(followup).toMatchObject({ author: "checks", status: "delivered", turn: 2 });
    expect(followup!.body).toContain("$ npm test");
    expect(followup!.body).toContain("FIXED is missing");
    expect(followup!.body).toContain("round 1 of 3");
    // Both turns' commits are on the branch: the fix on top of the first turn's work.
    expect(git(repo, "show", `${passed.branch}:NOTES.md`)).toBe("notes");
    expect(git(repo, "ls-tree", "--name-only", passed.branch)).toContain("FIXED");
    // The running step says how the round went.
    expect(passed.steps.filter((s) => s.step === "running").at(-1)!.detail).toContain("checks passed (round 2)");

    expect((await system.api("POST", `/api/tasks/${taskId}/finish`)).status).toBe(202);
    const { done } = await untilFinished(system, taskId, 60_000);
    expect(done.status).toBe("completed");
    expect(done.checks?.summary).toBe("checks passed (round 2)");
  });

  it("stops asking after MAX_CHECK_ROUNDS failing rounds and waits for the person, whose own follow-up starts a new count", async () => {
    const repo = makeRepo({ "package.json": FAILING_UNTIL_FIXED });
    const { body } = await system.api("POST", "/api/tasks", { repository: repo, prompt: "run:echo notes > NOTES.md" });
    const taskId = body.taskId as string;
    const failing = await until(taskId, (t) => t.checks?.state === "failing" && waitingForThePerson(t), "checks failing after 3 rounds");
    expect(failing.checks).toMatchObject({ turn: 3, round: 3, summary: "checks failing after 3 rounds", result: { passed: false } });
    expect(failing.messages.map((m) => [m.author, m.turn])).toEqual([
      ["checks", 2],
      ["checks", 3],
    ]);
    expect(git(repo, "show", `${failing.branch}:ATTEMPTS`)).toBe("tried\ntried");

    // The person fixes it by hand in a follow-up: that turn is round 1 again, and passes.
    expect((await system.api("POST", `/api/tasks/${taskId}/messages`, { body: "run:touch FIXED" })).status).toBe(202);
    const fixed = await until(taskId, (t) => t.checks?.state === "passed" && waitingForThePerson(t), "the person's fix passes");
    expect(fixed.checks).toMatchObject({ turn: 4, round: 1, summary: "checks passed (round 1)" });
    expect(fixed.messages.map((m) => m.author)).toEqual(["checks", "checks", "person"]);
    await system.api("POST", `/api/tasks/${taskId}/cancel`);
  });

  it("runs the task's own checks, given at submit, in place of the repository's, and refuses a bad list naming the field", async () => {
    const repo = makeRepo({ "package.json": FAILING_UNTIL_FIXED });
    const bad = await system.api("POST", "/api/tasks", { repository: repo, prompt: "run:true", checks: ["echo ok", ""] });
    expect(bad.status).toBe(422);
    expect(bad.body.field).toBe("checks.1");
    const { body } = await system.api("POST", "/api/tasks", { repository: repo, prompt: "run:echo notes > NOTES.md", checks: ["test -f NOTES.md", "git log --oneline | head -1"] });
    const ran = await until(body.taskId as string, (t) => t.checks !== null && waitingForThePerson(t), "the task's checks ran");
    expect(ran.checks).toMatchObject({ round: 1, state: "passed", result: { source: "task", commands: [{ command: "test -f NOTES.md", exitCode: 0 }, { command: "git log --oneline | head -1", exitCode: 0 }] } });
    expect(ran.messages).toEqual([]);
    await system.api("POST", `/api/tasks/${body.taskId}/cancel`);
  });
});

describe("with no wait for a follow-up (SESSION_IDLE_TIMEOUT 0)", () => {
  let quick: TestSystem;
  beforeAll(async () => {
    quick = await startTestSystem({ SCRIPT_AGENT_COMMAND: AGENT, SESSION_IDLE_TIMEOUT: "0", MAX_CHECK_ROUNDS: "2" });
  });
  afterAll(async () => quick?.stop());

  it("still sends a failed round back to the agent, then completes on its own, passed in round 2 or failing after the last", async () => {
    const fixable = await quick.api("POST", "/api/tasks", { repository: makeRepo({ "package.json": FAILING_UNTIL_FIXED, FIX_ALLOWED: "" }), prompt: "run:echo notes > NOTES.md" });
    const stuck = await quick.api("POST", "/api/tasks", { repository: makeRepo({ "package.json": FAILING_UNTIL_FIXED }), prompt: "run:echo notes > NOTES.md" });
    const [{ done: passed }, { done: failing }] = await Promise.all([untilFinished(quick, fixable.body.taskId, 120_000), untilFinished(quick, stuck.body.taskId, 120_000)]);
    expect(passed.status).toBe("completed");
    expect(passed.checks).toMatchObject({ turn: 2, round: 2, state: "passed", summary: "checks passed (round 2)" });
    expect(passed.messages.map((m) => [m.author, m.turn])).toEqual([["checks", 2]]);
    expect(failing.status).toBe("completed");
    expect(failing.checks).toMatchObject({ turn: 2, round: 2, state: "failing", summary: "checks failing after 2 rounds" });
    expect(failing.messages).toHaveLength(1);
  });
});
