/**
 * A task as a conversation in the browser, on a GitHub repository (the local double of GitHub's
 * git and REST API): after the agent's turn the page shows the diff against the base branch and
 * the draft pull request, and counts down the wait for a follow-up; a follow-up sent from the page
 * runs as the agent's next turn (a new commit on the same branch, the same pull request, the diff
 * grown), and "Finish now" completes the task. The shared system completes tasks when the turn
 * ends (SESSION_IDLE_TIMEOUT 0), so this test starts a system of its own that waits.
 */
import { expect, test } from "@playwright/test";
import type { RunningSystem } from "../scripts/system";
import { startGithubWithRepository } from "../tests/doubles/github-rest";
import { git } from "../tests/harness/git";
import { expectNoReload, markNoReload, type OwnSystem, screenshots, startOwnSystem } from "./support";

const TOKEN = "ghp_e2e_followup";
let system: RunningSystem;
let github: Awaited<ReturnType<typeof startGithubWithRepository>>;
const url = (pathname: string) => `${system.appUrl}${pathname}`;



/** "10:00" down to "9:00": a wait of SESSION_IDLE_TIMEOUT=10m that began a moment ago. */
const FRESH_COUNTDOWN = /^(10:00|9:[0-5]\d)$/;

let own: OwnSystem | undefined;

test.beforeAll(async () => {
  test.setTimeout(240_000);
  github = await startGithubWithRepository({ token: TOKEN });
  own = await startOwnSystem("acp-e2e-followup-", {
    SESSION_IDLE_TIMEOUT: "10m",
    ...github.systemEnv,
  });
  ({ system } = own);
  const stored = await fetch(url("/api/secrets/GITHUB_TOKEN"), { method: "PUT", headers: { ...system.authHeaders, "content-type": "application/json" }, body: JSON.stringify({ value: TOKEN }) });
  expect(stored.status).toBe(200);
});

test.afterAll(async () => {
  await own?.stop();
  await github?.close();
});
// Each test's browser signs in to this system as a person does, through a one-time link.
test.beforeEach(async ({ context }) => own!.signIn(context));

test("a follow-up sent from the task page runs as the agent's next turn, with the diff and the one pull request on the page, and Finish now completes the task", async ({ page }) => {
  test.setTimeout(240_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(url("/"));
  await page.getByLabel("Repository").fill(github.repository);
  await page.getByLabel("Task", { exact: true }).fill("Write the release notes");
  await page.getByRole("button", { name: "Start task" }).click();
  await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);
  const taskId = page.url().split("/").pop()!;
  // No reload from here on: every change must arrive through the live stream.
  await markNoReload(page);

  const status = page.getByTestId("task-status");
  const countdown = page.getByTestId("followup-countdown");
  const commit = page.getByTestId("task-commit");
  const prompt = page.getByTestId("conversation-prompt");
  await expect(prompt).toContainText("Write the release notes");
  await expect(prompt).toContainText("turn 1");

  // The first turn ends: the run waits for a follow-up, counting down each second.
  await expect(countdown).toHaveText(FRESH_COUNTDOWN, { timeout: 90_000 });
  await expect(page.getByTestId("followup-wait")).toContainText("Waiting for your follow-up · completes in");
  await expect(status).toHaveAttribute("data-status", "in_progress");
  await expect(page.getByTestId("step-awaiting_followup")).toHaveAttribute("data-status", "running");
  const shown = (await countdown.textContent()) ?? "";
  await expect(countdown).not.toHaveText(shown, { timeout: 5_000 });
  await expect(page.getByTestId("agent-output")).toContainText("script agent: wrote .agent/tasks/write-the-release-notes.md");
  const firstCommit = (await commit.textContent()) ?? "";
  expect(firstCommit).toMatch(/^[0-9a-f]{40}$/);
  await expect(page.getByTestId("conversation-message")).toHaveCount(0);

  // The turn's diff against main, and the draft pull request it opened, linked.
  const pill = page.getByTestId("pull-request-pill");
  await expect(pill).toHaveText(/Draft PR #1/);
  await expect(pill).toHaveAttribute("href", `${github.webUrl}/org/repo/pull/1`);
  await expect(page.getByTestId("pull-request-link")).toHaveText("org/repo#1");
  const diffSummary = page.getByTestId("diff-summary");
  await expect(diffSummary).toContainText("2 files changed");
  await expect(diffSummary).toContainText("after turn 1");
  const noteFile = page.locator('[data-testid="diff-file"][data-path=".agent/tasks/write-the-release-notes.md"]');
  await expect(noteFile.locator(".diff-code-insert").first()).toHaveText("# Task");
  await screenshots(page, "followup-waiting");

  // An empty follow-up is refused beside the field.
  const box = page.getByLabel("Follow-up");
  const send = page.getByTestId("followup-send");
  await box.fill("   ");
  await send.click();
  await expect(box).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByText("Follow-up is required")).toBeVisible();

  // A refused send is said in a banner and keeps the text; sending again reuses its client id.
  await box.fill("Also add a changelog entry");
  await expect(box).not.toHaveAttribute("aria-invalid");
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const clientIds: string[] = [];
  await page.route("**/api/tasks/*/messages", async (route) => {
    clientIds.push((route.request().postDataJSON() as { clientId: string }).clientId);
    await held;
    await route.fulfill({ status: 503, contentType: "application/json", body: JSON.stringify({ error: "the control plane is restarting" }) });
  });
  await send.click();
  await expect(send).toHaveText("Sending…");
  await expect(send).toBeDisabled();
  release();
  await expect(page.getByTestId("followup-error")).toContainText("the control plane is restarting");
  await expect(box).toHaveValue("Also add a changelog entry");
  await expect(send).toBeEnabled();
  await page.getByTestId("conversation").screenshot({ path: "test-results/e2e/followup-refused-1440.png" });
  await page.setViewportSize({ width: 375, height: 812 });
  await page.getByTestId("conversation").screenshot({ path: "test-results/e2e/followup-refused-375.png" });
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.unroute("**/api/tasks/*/messages");

  // Ctrl+Enter sends: the box clears, and the message is delivered to the agent as turn 2.
  const sent = page.waitForRequest((request) => request.url().endsWith(`/api/tasks/${taskId}/messages`) && request.method() === "POST");
  await box.press("Control+Enter");
  expect((await sent).postDataJSON()).toEqual({ body: "Also add a changelog entry", clientId: clientIds[0] });
  await expect(box).toHaveValue("");
  await expect(page.getByTestId("followup-error")).toHaveCount(0);
  const message = page.getByTestId("conversation-message");
  await expect(message).toHaveCount(1);
  await expect(message).toContainText("Also add a changelog entry");
  await expect(message).toHaveAttribute("data-status", "delivered", { timeout: 30_000 });
  await expect(message).toHaveAttribute("data-turn", "2");
  await expect(message).toContainText("delivered · turn 2");

  // Turn 2 ends with a new commit on the same branch, and the wait starts again.
  await expect(commit).not.toHaveText(firstCommit, { timeout: 60_000 });
  await expect(commit).toHaveText(/^[0-9a-f]{40}$/);
  await expect(page.getByTestId("agent-output")).toContainText("script agent: wrote .agent/tasks/also-add-a-changelog-entry.md");
  await expect(countdown).toHaveText(FRESH_COUNTDOWN, { timeout: 30_000 });
  await expect(page.getByTestId("step-awaiting_followup")).toHaveAttribute("data-status", "running");
  await expect(status).toHaveAttribute("data-status", "in_progress");
  // The diff grew by the second turn's file; still the one pull request.
  await expect(diffSummary).toContainText("3 files changed");
  await expect(diffSummary).toContainText("after turn 2");
  await expect(page.locator('[data-testid="diff-file"][data-path=".agent/tasks/also-add-a-changelog-entry.md"]')).toBeVisible();
  await expect(pill).toHaveText(/Draft PR #1/);
  expect(github.pulls).toHaveLength(1);
  expect(github.pulls[0]!.body).toContain("turn 2: Also add a changelog entry");
  await screenshots(page, "followup-delivered");

  // Finish now: busy until the answer, then the task completes without waiting out the countdown.
  let releaseFinish = () => {};
  const finishHeld = new Promise<void>((resolve) => (releaseFinish = resolve));
  await page.route("**/api/tasks/*/finish", async (route) => {
    await finishHeld;
    await route.continue();
  });
  await page.getByRole("button", { name: "Finish now" }).click();
  const finish = page.getByTestId("task-finish");
  await expect(finish).toHaveText("Finishing…");
  await expect(finish).toBeDisabled();
  releaseFinish();
  await expect(status).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  await page.unroute("**/api/tasks/*/finish");
  await expect(page.getByTestId("task-finish")).toHaveCount(0);
  await expect(page.getByTestId("followup-wait")).toHaveCount(0);
  await expect(page.getByTestId("followup-form")).toHaveCount(0);
  await expect(page.getByTestId("step-awaiting_followup")).toContainText("finished by the person");
  await expect(message).toContainText("delivered · turn 2");
  await expectNoReload(page);

  const detail = (await (await page.request.get(url(`/api/tasks/${taskId}`))).json()) as { finishRequested: boolean; idleUntil: string | null; commit: string };
  expect(detail).toMatchObject({ finishRequested: true, idleUntil: null });
  expect(detail.commit).not.toBe(firstCommit);
  expect(git(github.git.bare, "rev-parse", `${detail.commit}^`)).toBe(firstCommit);
  expect(github.git.branch((await (await page.request.get(url(`/api/tasks/${taskId}`))).json() as { branch: string }).branch)).toBe(detail.commit);
  await screenshots(page, "followup-completed");
});
