/**
 * The pull request's CI on the task page, on a repository of the GitHub double (git and REST on one
 * HTTPS host) whose CI runs on every pushed commit: one Actions job that fails while a file FIXED is
 * missing, and a commit status that passes. The run watches the first turn's commit, CI fails, the
 * system's follow-up from "CI" quotes the job's log, the agent adds FIXED, and the card ends "CI
 * passed (round 2)". The test holds CI running, and the agent's fixing turn, until it has looked at
 * each state. The shared system completes a task when its turn ends, so this file starts its own.
 */
import fs from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import type { TaskDetail } from "../lib/contracts/api";
import { failingUntilFixed, startGithubWithRepository, type DoubleCiJob } from "../tests/doubles/github-rest";
import { sharedTempDir } from "../tests/harness/shared-dir";
import { expectNoReload, markNoReload, type OwnSystem, screenshots, startOwnSystem } from "./support";

const TOKEN = "ghp_e2e_ci";
let github: Awaited<ReturnType<typeof startGithubWithRepository>>;
let own: OwnSystem | undefined;
const url = (pathname: string) => `${own!.system.appUrl}${pathname}`;

/** While set, every commit's CI is still running (the test looks at the card meanwhile). */
let ciHeld = true;
/** Made by the test: the agent's fixing turn may end (the agent runs as its workspace's user, so the folder is open to all). */
let fixGate = "";

/** The agent: the system's CI follow-up that quotes "FIXED is missing" makes it add FIXED, once the gate is open; any other prompt writes notes. */
const agentCommand = (gate: string) =>
  [
    'case "$AGENT_PROMPT" in',
    `  *"FIXED is missing"*) echo "Reading the failing job's log."; while [ ! -e '${gate}' ]; do sleep 0.1; done; touch FIXED; echo "Added FIXED, which the test job checks for." ;;`,
    '  *) echo "# Release notes" > NOTES.md; echo "Wrote NOTES.md." ;;',
    "esac",
  ].join("\n");

/** The double's CI for a commit: the Actions job "test" (fails while FIXED is missing, with its log) and the status "ci/lint" (passes). */
function repositoryCi(git: { bare: string }, sha: string): DoubleCiJob[] {
  if (ciHeld) {
    return [
      { kind: "check_run", name: "test", status: "in_progress" },
      { kind: "status", context: "ci/lint", state: "pending", description: "lint is running" },
    ];
  }
  return failingUntilFixed(git, sha);
}

test.beforeAll(async () => {
  test.setTimeout(240_000);
  fixGate = path.join(sharedTempDir("acp-e2e-ci-gate-"), "fix");
  github = await startGithubWithRepository({ token: TOKEN, ci: repositoryCi });
  own = await startOwnSystem("acp-e2e-ci-", {
    SESSION_IDLE_TIMEOUT: "10m",
    SCRIPT_AGENT_COMMAND: agentCommand(fixGate),
    ...github.systemEnv,
    // Looks a second or two apart, so each change of CI shows soon.
    CI_POLL_INTERVAL: "1s",
    CI_POLL_MAX: "2s",
  });
  const stored = await fetch(url("/api/secrets/GITHUB_TOKEN"), { method: "PUT", headers: { ...own.system.authHeaders, "content-type": "application/json" }, body: JSON.stringify({ value: TOKEN }) });
  expect(stored.status).toBe(200);
});

test.afterAll(async () => {
  await own?.stop();
  await github?.close();
});
// Each test's browser signs in to this system as a person does, through a one-time link.
test.beforeEach(async ({ context }) => own!.signIn(context));

async function submit(page: Page, prompt: string): Promise<string> {
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(url("/"));
  await page.getByLabel("Repository").fill(github.repository);
  await page.getByLabel("Task", { exact: true }).fill(prompt);
  await page.getByRole("button", { name: "Start task" }).click();
  await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);
  return page.url().split("/").pop()!;
}

test("CI fails once: the failing job's log goes back to the agent from CI, and the card ends 'CI passed (round 2)'", async ({ page }) => {
  test.setTimeout(240_000);
  await submit(page, "Write the release notes");
  // No reload from here on: every change must arrive through the live stream.
  await markNoReload(page);

  // The first turn pushed and opened the pull request; the run watches its CI, which is still running.
  const card = page.getByTestId("task-ci");
  const summary = card.getByTestId("ci-summary");
  await expect(page.getByTestId("step-awaiting_ci")).toHaveAttribute("data-status", "running", { timeout: 90_000 });
  await expect(page.getByTestId("step-awaiting_ci")).toContainText("Pull request CI");
  await expect(summary).toHaveText(/^CI running on commit [0-9a-f]{12} \(2 of 2 checks\)$/, { timeout: 30_000 });
  await expect(card).toHaveAttribute("data-state", "pending");
  await expect(summary).toHaveAttribute("data-tone", "info");
  await expect(card.getByTestId("ci-round")).toHaveText("1 of 3");
  const checks = card.getByTestId("ci-check");
  await expect(checks).toHaveCount(2);
  await expect(checks.nth(0)).toHaveAttribute("data-state", "pending");
  await expect(checks.nth(0).getByTestId("ci-check-outcome")).toHaveText("running");
  await expect(card.getByTestId("ci-excerpt")).toHaveCount(0);
  // The conversation says what the run waits for, and what a message does meanwhile.
  await expect(page.getByTestId("ci-wait")).toContainText("Waiting for the pull request's CI");
  await expect(page.getByTestId("followup-wait")).toHaveCount(0);
  await expect(page.getByTestId("followup-form")).toContainText("While CI runs, a message stops the wait for it and goes to the agent.");
  await screenshots(page, "ci-running");

  // CI ends: the job failed. The agent is asked to fix it (its turn waits on the gate meanwhile).
  ciHeld = false;
  await expect(summary).toHaveText("CI failed (round 1 of 3): the agent was asked to fix it", { timeout: 30_000 });
  await expect(card).toHaveAttribute("data-state", "fixing");
  await expect(summary).toHaveAttribute("data-tone", "warn");
  const failing = checks.filter({ has: page.getByTestId("ci-check-name").getByText("test", { exact: true }) });
  await expect(failing).toHaveAttribute("data-state", "failed");
  await expect(failing).toHaveAttribute("data-kind", "check_run");
  await expect(failing.getByTestId("ci-check-outcome")).toHaveText("failure");
  await expect(failing.getByTestId("ci-check-summary")).toHaveText("1 failing");
  await expect(failing.getByTestId("ci-check-link")).toHaveAttribute("href", new RegExp(`^${github.webUrl}/org/repo/actions/runs/1/job/\\d+$`));
  const lint = checks.filter({ hasText: "ci/lint" });
  await expect(lint).toHaveAttribute("data-state", "passed");
  await expect(lint).toHaveAttribute("data-kind", "status");
  await expect(lint.getByTestId("ci-check-outcome")).toHaveText("success");
  await expect(lint.getByTestId("ci-check-summary")).toHaveText("lint passed");
  // The failing job's log, open, without GitHub's timestamps.
  const excerpt = card.getByTestId("ci-excerpt-output");
  await expect(excerpt).toBeVisible();
  await expect(excerpt).toContainText("Error: FIXED is missing");
  await expect(excerpt).not.toContainText("2026-12-07T10:00");

  // In the conversation: the system's follow-up, from CI, with the log in a code block; the agent works on it.
  const conversation = page.getByTestId("conversation");
  const followup = conversation.locator('[data-testid="conversation-message"][data-author="ci"]');
  await expect(followup).toHaveCount(1);
  await expect(followup).toContainText("CI");
  await expect(followup).not.toContainText("Follow-up");
  await expect(followup).toContainText("round 1 of 3");
  await expect(followup.locator("pre code")).toContainText("Error: FIXED is missing");
  await expect(followup).toHaveAttribute("data-status", "delivered", { timeout: 30_000 });
  await expect(followup).toHaveAttribute("data-turn", "2");
  await expect(page.getByTestId("agent-output")).toContainText("Reading the failing job's log.", { timeout: 30_000 });
  await expect(page.getByTestId("ci-wait")).toHaveCount(0);
  await screenshots(page, "ci-failing");

  // The agent adds FIXED; CI on its commit passes, and the task waits for the person.
  fs.writeFileSync(fixGate, "");
  await expect(summary).toHaveText("CI passed (round 2)", { timeout: 60_000 });
  await expect(card).toHaveAttribute("data-state", "passed");
  await expect(summary).toHaveAttribute("data-tone", "good");
  await expect(card.getByTestId("ci-round")).toHaveText("2 of 3");
  await expect(checks).toHaveCount(2);
  for (const check of await checks.all()) await expect(check).toHaveAttribute("data-state", "passed");
  await expect(card.getByTestId("ci-excerpt")).toHaveCount(0);
  await expect(page.getByTestId("followup-wait")).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("step-awaiting_ci")).toHaveAttribute("data-status", "succeeded");
  await expect(page.getByTestId("step-awaiting_ci")).toContainText("CI passed (round 2)");
  await expect(conversation.locator('[data-testid="conversation-message"][data-author="ci"]')).toHaveCount(1);
  expect(github.pulls).toHaveLength(1);
  await screenshots(page, "ci-passed");

  await page.getByRole("button", { name: "Finish now" }).click();
  await expect(page.getByTestId("task-status")).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  await expect(summary).toHaveText("CI passed (round 2)");
  await expectNoReload(page);
});

const SHORT_SUMMARY = "Wrote **NOTES.md** with the release notes.";
const LONG_SUMMARY = [
  "Fixed the failing CI job:",
  "",
  "- `test` checks for a file named `FIXED`; it was missing.",
  "- Added `FIXED` at the root of the repository.",
  "- Ran the job's command locally: it passes.",
  "",
  "```sh",
  "npm test",
  "```",
  "",
  "Nothing else changed; the notes from turn 1 stay as they were.",
].join("\n");

/** The task as the API answers, with two turns' usage and their closing summaries added (the script agent reports no usage). */
function withTurnSummaries(task: TaskDetail): TaskDetail {
  const usage = { inputTokens: 1_200, outputTokens: 340, cacheReadTokens: 0, cacheWriteTokens: 0 };
  const turn = (n: number, summary: string) => ({ attempt: 1, turn: n, ...usage, costUsd: 0.0087, costSource: "agent" as const, endedAt: task.updatedAt, summary });
  const total = { inputTokens: 2_400, outputTokens: 680, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.0174, turns: 2, unpricedTurns: 0 };
  return { ...task, usageDetail: { ...task.usageDetail, turns: [turn(1, SHORT_SUMMARY), turn(2, LONG_SUMMARY)], total } };
}

test("each turn's closing summary shows under its usage, as Markdown, a long one collapsed until opened", async ({ page }) => {
  test.setTimeout(180_000);
  ciHeld = false;
  const taskId = await submit(page, "Write the changelog");
  await expect(page.getByTestId("task-ci")).toHaveAttribute("data-state", "passed", { timeout: 90_000 });
  // Only the script agent runs offline, and it reports no usage: the page is given a task whose
  // turns carry the summaries a Claude Code or Codex turn reports, by its answer and its live stream.
  const answer = await page.request.get(url(`/api/tasks/${taskId}`));
  const task = withTurnSummaries((await answer.json()) as TaskDetail);
  await page.route(`**/api/tasks/${taskId}`, (route) => route.fulfill({ json: task }));
  await page.route(`**/api/tasks/${taskId}/events`, (route) =>
    route.fulfill({ status: 200, contentType: "text/event-stream", body: `id: 1\ndata: ${JSON.stringify({ type: "task", task })}\n\n` }),
  );
  await page.reload();

  const usage = page.getByTestId("task-usage");
  const summaries = usage.getByTestId("usage-turn-summary");
  await expect(summaries).toHaveCount(2);
  await expect(summaries.nth(0)).toHaveAttribute("data-collapsed", "false");
  await expect(summaries.nth(0).locator("strong")).toHaveText("NOTES.md");
  await expect(summaries.nth(0).getByTestId("usage-turn-summary-toggle")).toHaveCount(0);
  const long = summaries.nth(1);
  await expect(long).toHaveAttribute("data-collapsed", "true");
  await expect(long.locator("li")).toHaveCount(3);
  const toggle = long.getByTestId("usage-turn-summary-toggle");
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await screenshots(page, "ci-turn-summaries");
  await toggle.click();
  await expect(long).toHaveAttribute("data-collapsed", "false");
  await expect(toggle).toHaveText("Show less");
  await expect(long).toContainText("Nothing else changed");
  await usage.screenshot({ path: "test-results/e2e/ci-turn-summaries-open-1440.png" });
  await page.setViewportSize({ width: 375, height: 812 });
  await usage.screenshot({ path: "test-results/e2e/ci-turn-summaries-open-375.png" });
});
