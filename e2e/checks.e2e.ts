import { expect, test } from "@playwright/test";
import { makeRepo } from "../tests/harness/git";
import { type OwnSystem, screenshots, startOwnSystem } from "./support";

// Rounds of checks happen between turns, so the task must wait for follow-ups: the shared system
// completes a task when its first turn ends (SESSION_IDLE_TIMEOUT 0), this one waits.
let own: OwnSystem | undefined;
test.beforeAll(async () => {
  test.setTimeout(180_000);
  own = await startOwnSystem("acp-checks-", { SESSION_IDLE_TIMEOUT: "10m", MAX_CHECK_ROUNDS: "3" });
});
test.afterAll(async () => own?.stop());

test("a task's own checks, given in the form: a failing one is sent back to the agent each round, and the page shows where they stand", async ({ page }) => {
  test.setTimeout(240_000);
  await own!.signIn(page.context());
  await page.goto(`${own!.system.appUrl}/`);
  await page.getByLabel("Repository").fill(makeRepo()); // it has a README.md
  await page.getByLabel("Task", { exact: true }).fill("Write the release notes");
  await page.getByLabel("Checks").fill("test -f README.md\n\nexit 3\n");
  await page.getByRole("button", { name: "Start task" }).click();
  await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);

  // MAX_CHECK_ROUNDS is 3: the system asks the script agent twice, then the task waits for the person.
  const card = page.getByTestId("task-checks");
  await expect(card.getByTestId("checks-summary")).toHaveText("Checks failing after 3 rounds", { timeout: 150_000 });
  await expect(card).toHaveAttribute("data-state", "failing");
  await expect(card.getByTestId("checks-summary")).toHaveAttribute("data-tone", "bad");
  await expect(card.getByTestId("checks-source")).toHaveText("the task's own checks");
  await expect(card.getByTestId("checks-round")).toHaveText("3 of 3");
  const commands = card.getByTestId("checks-command");
  await expect(commands).toHaveCount(2);
  await expect(commands.nth(0)).toHaveAttribute("data-failed", "false");
  await expect(commands.nth(0).getByTestId("checks-command-outcome")).toHaveText("exit 0");
  // The passing command's output is closed; the failing one's open.
  await expect(commands.nth(0).getByTestId("checks-command-output")).toBeHidden();
  await expect(commands.nth(1)).toHaveAttribute("data-failed", "true");
  await expect(commands.nth(1)).toContainText("exit 3");
  await expect(commands.nth(1).getByTestId("checks-command-outcome")).toHaveText("exit 3");
  await expect(commands.nth(1).getByTestId("checks-command-output")).toBeVisible();

  // In the conversation: the system's follow-ups, from Checks, with the failing command in a code block…
  const conversation = page.getByTestId("conversation");
  const followup = conversation.locator('[data-testid="conversation-message"][data-author="checks"]').last();
  await expect(followup).toBeVisible();
  await expect(followup).toContainText("Checks");
  await expect(followup).toContainText("round 2 of 3");
  await expect(followup.locator("pre code")).toContainText("$ exit 3");
  // …and the last turn's checks as blocks, not marker lines.
  const failing = conversation.getByTestId("check-block").filter({ hasText: "exit 3" }).last();
  await expect(failing).toHaveAttribute("data-state", "failed");
  await expect(failing.getByTestId("check-block-status")).toHaveText(/^exit 3 · \d/);
  await expect(failing.getByTestId("check-block-output")).toBeVisible();
  const passing = conversation.getByTestId("check-block").filter({ hasText: "test -f README.md" }).last();
  await expect(passing).toHaveAttribute("data-state", "passed");
  await expect(passing.getByTestId("check-block-output")).toBeHidden();
  await expect(conversation.getByTestId("agent-output")).not.toContainText('"acp.check"');
  await expect(page.getByTestId("followup-wait")).toBeVisible({ timeout: 30_000 });
  await screenshots(page, "checks-failing");
});

test("a check line the API would refuse shows on the Checks box, naming its line", async ({ page }) => {
  await page.goto("/");
  await page.getByLabel("Repository").fill(makeRepo());
  await page.getByLabel("Task", { exact: true }).fill("Anything");
  await page.getByLabel("Checks").fill(`npm test\n\n${"x".repeat(2_001)}`);
  await page.getByRole("button", { name: "Start task" }).click();
  await expect(page.getByLabel("Checks")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByText("Checks, line 3: must be at most 2000 characters")).toBeVisible();
});
