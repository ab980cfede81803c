import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { makeRepo } from "../tests/harness/git";
import { sharedTempDir } from "../tests/harness/shared-dir";



test("a failed task is retried from its page, runs to completed on the same branch and keeps its first attempt", async ({ page }) => {
  test.setTimeout(240_000);
  const gate = sharedTempDir("acp-e2e-gate-"); // the setup script runs as the workspace's own user
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto("/");
  await page.getByLabel("Repository").fill(makeRepo({ ".agent/setup.sh": `test -e '${gate}/go' || { echo "setup is not ready yet" >&2; exit 1; }\n` }));
  await page.getByLabel("Task", { exact: true }).fill("Write the setup notes");
  await page.getByRole("button", { name: "Start task" }).click();
  await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);
  const taskUrl = page.url();

  const status = page.getByTestId("task-status");
  await expect(status).toHaveAttribute("data-status", "failed", { timeout: 90_000 });
  await expect(page.getByTestId("task-error")).toContainText("setup is not ready yet");
  // The boot log on the page: the stages before setup succeeded, setup failed, and its output.
  await expect(page.getByTestId("boot-stage-clone")).toHaveAttribute("data-status", "succeeded");
  await expect(page.getByTestId("boot-stage-setup")).toHaveAttribute("data-status", "failed");
  await expect(page.getByTestId("setup-output")).toHaveText("setup is not ready yet");
  await expect(page.getByTestId("earlier-attempts")).toHaveCount(0);
  await expect(page.getByTestId("task-attempt")).toHaveCount(0);
  await expect(page.getByTestId("task-cancel")).toHaveCount(0);
  const branch = (await page.getByTestId("task-branch").textContent()) ?? "";
  expect(branch).toMatch(/^agents\/write-the-setup-notes-/);
  await page.screenshot({ path: "test-results/e2e/retry-failed-1440.png", fullPage: true });
  await page.setViewportSize({ width: 375, height: 812 });
  await page.screenshot({ path: "test-results/e2e/retry-failed-375.png", fullPage: true });
  await page.setViewportSize({ width: 1440, height: 900 });

  // A refused retry is said in words, and the button can be pressed again.
  const retry = page.getByRole("button", { name: "Retry" });
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/api/tasks/*/retry", async (route) => {
    await held;
    await route.fulfill({ status: 409, contentType: "application/json", body: JSON.stringify({ error: "task is busy; only a failed or cancelled task can be retried" }) });
  });
  await retry.click();
  const busy = page.getByTestId("task-retry");
  await expect(busy).toHaveText("Retrying…");
  await expect(busy).toBeDisabled();
  release();
  await expect(page.getByTestId("task-retry-error")).toContainText("only a failed or cancelled task can be retried");
  await expect(retry).toBeEnabled();
  await page.screenshot({ path: "test-results/e2e/retry-refused-1440.png" });
  await page.unroute("**/api/tasks/*/retry");

  fs.writeFileSync(path.join(gate, "go"), "");
  await retry.click();
  // No reload from here on: the new run arrives through the live stream.
  await expect(page.getByTestId("task-attempt")).toHaveText("Attempt 2", { timeout: 15_000 });
  await expect(page.getByTestId("task-retry-error")).toHaveCount(0);
  await expect(status).toHaveAttribute("data-status", "completed", { timeout: 90_000 });
  expect(page.url()).toBe(taskUrl);
  await expect(page.getByTestId("task-retry")).toHaveCount(0);
  await expect(page.getByTestId("task-error")).toHaveCount(0);
  await expect(page.getByTestId("task-branch")).toHaveText(branch);
  await expect(page.getByTestId("step-workspace_ready")).toHaveAttribute("data-status", "succeeded");
  // The new workspace's own boot log: its setup ran and passed.
  await expect(page.getByTestId("boot-stage-setup")).toHaveAttribute("data-status", "succeeded");
  await expect(page.getByTestId("boot-stage-ready")).toHaveAttribute("data-status", "succeeded");
  await expect(page.getByTestId("boot-stage-environment")).toHaveAttribute("data-status", "succeeded");
  await expect(page.getByTestId("agent-output")).toContainText("script agent: wrote .agent/tasks/write-the-setup-notes.md");

  const earlier = page.getByTestId("earlier-attempts");
  await expect(earlier.getByRole("heading", { name: /Earlier attempts/ })).toBeVisible();
  await expect(earlier.getByRole("heading", { level: 3 })).toHaveCount(1);
  const first = earlier.getByTestId("attempt-1");
  await expect(first.getByRole("heading", { name: "Attempt 1" })).toBeVisible();
  await expect(first).toHaveAttribute("data-status", "failed");
  await expect(first.getByRole("heading", { name: "Attempt 1" }).locator("..")).toContainText("Failed");
  await expect(first.getByTestId("attempt-error")).toContainText("Error: ");
  await expect(first.getByTestId("attempt-error")).toContainText("setup is not ready yet");
  await expect(first.getByTestId("attempt-commit")).toHaveCount(0);
  const failedStep = first.getByTestId("attempt-1-step-workspace_ready");
  await expect(failedStep).toBeHidden();
  await first.getByText(/^Pipeline · \d+ steps?$/).click();
  await expect(failedStep).toBeVisible();
  await expect(failedStep).toHaveAttribute("data-status", "failed");
  await expect(failedStep).toContainText("setup is not ready yet");

  // From the top, so the sticky top bar is where it belongs in the full-page shots.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: "test-results/e2e/retry-completed-1440.png", fullPage: true });
  await page.setViewportSize({ width: 375, height: 812 });
  await expect(first).toBeVisible();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: "test-results/e2e/retry-completed-375.png", fullPage: true });
  fs.rmSync(gate, { recursive: true, force: true });
});
