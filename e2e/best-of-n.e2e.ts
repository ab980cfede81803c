/**
 * Best of N in the browser, on a system of its own and a local repository (no forge, so no pull
 * request: the pick still works, and its "delete" removes the others' branches from the repository).
 * Submitted through the form with Attempts 3; three script agents run side by side, the first to run
 * takes a mark and writes the file the task's checks want, the others do not; the comparison ranks
 * the passing one #1, it is picked with its other branches deleted, and the page says so.
 */
import { expect, test } from "@playwright/test";
import { git, makeRepo } from "../tests/harness/git";
import { sharedTempDir } from "../tests/harness/shared-dir";
import { type OwnSystem, screenshots, startOwnSystem } from "./support";

const marks = sharedTempDir("acp-e2e-best-of-n-");
/** The first candidate to run takes the mark and does the work the checks want; the others write something else (as tests/integration/best-of-n.test.ts). */
const AGENT = `if mkdir '${marks}/first' 2>/dev/null; then echo done > FIXED; echo "the fix" > NOTES.md; else printf 'a\\nb\\nc\\n' > NOTES.md; fi`;

let own: OwnSystem | undefined;
const url = (pathname: string) => `${own!.system.appUrl}${pathname}`;

test.beforeAll(async () => {
  test.setTimeout(180_000);
  own = await startOwnSystem("acp-best-of-n-", {
    SCRIPT_AGENT_COMMAND: AGENT,
    // Follow-ups are waited for, as people run it; candidates still end on their own.
    SESSION_IDLE_TIMEOUT: "10m",
    // One round: a failing candidate is not asked to fix its checks (the agent here would not).
    MAX_CHECK_ROUNDS: "1",
  });
});
test.afterAll(async () => own?.stop());

const branchExists = (repo: string, branch: string) => git(repo, "branch", "--list", branch) !== "";

test("best of 3 with one passing attempt ranked first: the comparison, the pick with the other branches deleted", async ({ page }) => {
  test.setTimeout(300_000);
  await own!.signIn(page.context());
  await page.goto(url("/"));
  const repo = makeRepo();
  await page.getByLabel("Repository").fill(repo);
  await page.getByLabel("Task", { exact: true }).fill("Fix it");
  await page.getByLabel("Checks").fill("test -f FIXED");
  const attempts = page.getByRole("group", { name: "Attempts" });
  await expect(attempts.getByRole("radio", { name: "1" })).toBeChecked();
  await attempts.getByRole("radio", { name: "3" }).check();
  await expect(page.getByTestId("new-task-attempts-hint")).toHaveText(/^3 agents work side by side/);
  await screenshots(page, "best-of-n-form");
  await page.getByRole("button", { name: "Start task" }).click();
  await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);
  const firstId = new URL(page.url()).pathname.split("/").pop()!;

  // The first candidate's page compares all three, live, until each has completed with its checks.
  await expect(page.getByTestId("task-candidate")).toHaveText("Candidate 1 of 3");
  const comparison = page.getByTestId("best-of");
  await expect(comparison.getByRole("heading", { name: "Best of 3" })).toBeVisible();
  const cards = comparison.getByTestId("candidate");
  await expect(cards).toHaveCount(3);
  // A picture while they work (how far each got depends on the machine).
  await screenshots(page, "best-of-n-running");
  await expect(comparison.locator('[data-testid="candidate"][data-status="completed"]')).toHaveCount(3, { timeout: 180_000 });
  await expect(comparison.locator('[data-testid="candidate-checks"][data-state]')).toHaveCount(3, { timeout: 30_000 });

  const best = cards.nth(0);
  await expect(best).toHaveAttribute("data-rank", "1");
  await expect(best.getByTestId("candidate-rank")).toHaveText("#1");
  await expect(best.getByTestId("candidate-checks")).toHaveText("Checks passed (round 1)");
  await expect(best.getByTestId("candidate-checks")).toHaveAttribute("data-tone", "good");
  await expect(best.getByTestId("candidate-diff")).toHaveText("2 files, +2 \u22120");
  for (const [index, rest] of [cards.nth(1), cards.nth(2)].entries()) {
    await expect(rest.getByTestId("candidate-rank")).toHaveText(`#${index + 2}`);
    await expect(rest.getByTestId("candidate-checks")).toHaveText("Checks failing after 1 round");
    await expect(rest.getByTestId("candidate-checks")).toHaveAttribute("data-tone", "bad");
    await expect(rest.getByTestId("candidate-diff")).toHaveText("1 file, +3 \u22120");
  }
  const bestId = (await best.getAttribute("data-task-id"))!;
  const bestNumber = (await best.getAttribute("data-candidate"))!;
  const branchOf = async (index: number) => (await cards.nth(index).getByTestId("candidate-branch").textContent())!;
  const [bestBranch, ...otherBranches] = [await branchOf(0), await branchOf(1), await branchOf(2)];
  expect(new Set([bestBranch, ...otherBranches]).size).toBe(3);
  for (const branch of [bestBranch!, ...otherBranches]) expect(branchExists(repo, branch), branch).toBe(true);
  for (const index of [0, 1, 2]) await expect(cards.nth(index).getByTestId("candidate-pick")).toBeEnabled();
  await screenshots(page, "best-of-n-before-pick");

  // The pick: "Pick this one", then the other branches (kept unless asked) and the pick itself.
  await best.getByTestId("candidate-pick").click();
  const confirm = best.getByTestId("candidate-pick-confirm");
  await expect(confirm.getByRole("radio", { name: "Keep" })).toBeChecked();
  await confirm.getByRole("radio", { name: "Delete" }).check();
  // A refusal (here the API's 409, answered for it once) shows on the card, and nothing is picked.
  await page.route(`**/api/tasks/${firstId}/pick`, (route) => route.fulfill({ status: 409, json: { error: `candidate ${bestNumber} has no pushed work to pick (it is in_progress)`, field: "taskId" } }), { times: 1 });
  await confirm.getByTestId("candidate-pick-confirm-button").click();
  await expect(best.getByTestId("candidate-pick-error")).toHaveText(`Candidate ${bestNumber} has no pushed work to pick (it is in_progress)`);
  await expect(comparison).not.toHaveAttribute("data-picked");
  await screenshots(page, "best-of-n-pick-confirm");

  await confirm.getByTestId("candidate-pick-confirm-button").click();
  await expect(comparison).toHaveAttribute("data-picked", bestId);
  await expect(best.getByTestId("candidate-picked")).toHaveText(/Picked/);
  await expect(best).toHaveAttribute("data-standing", "picked");
  await expect(best.getByTestId("candidate-pick-error")).toHaveCount(0);
  for (const index of [1, 2]) {
    await expect(cards.nth(index)).toHaveAttribute("data-standing", "passed-over");
    await expect(cards.nth(index)).toHaveCSS("opacity", "0.55");
  }
  await expect(comparison.getByTestId("candidate-pick")).toHaveCount(0);
  await expect(comparison.getByTestId("best-of-outcome")).toContainText(`Candidate ${bestNumber} was picked: its branch is the task's work. The other 2 candidates' branches were deleted.`);
  // In the repository: the others' branches are gone, the pick's remains.
  for (const branch of otherBranches) expect(branchExists(repo, branch!), branch).toBe(false);
  expect(branchExists(repo, bestBranch!)).toBe(true);
  await page.mouse.move(0, 0);
  await screenshots(page, "best-of-n-picked");

  // Another candidate's page shows the same comparison, picked.
  const other = comparison.locator('[data-testid="candidate"]:not([data-current])').first();
  const otherNumber = (await other.getAttribute("data-candidate"))!;
  const otherId = (await other.getAttribute("data-task-id"))!;
  await other.getByTestId("candidate-link").click();
  await page.waitForURL(new RegExp(`/tasks/${otherId}$`));
  await expect(page.getByTestId("task-candidate")).toHaveText(`Candidate ${otherNumber} of 3`);
  await expect(page.getByTestId("best-of")).toHaveAttribute("data-picked", bestId);

  // The list shows the submission once, as best of 3.
  await page.goto(url("/"));
  const rows = page.getByTestId("task-list").locator(":scope > li");
  await expect(rows).toHaveCount(1);
  await expect(page.getByTestId(`task-row-${firstId}`).getByTestId("task-row-best-of")).toHaveText("best of 3");
  await screenshots(page, "best-of-n-list");
});
