import { expect, test } from "@playwright/test";
import { git, makeRepo } from "../tests/harness/git";


test("a task submitted in the browser runs to completed, live", async ({ page }) => {
  const repo = makeRepo();
  git(repo, "branch", "develop");
  await page.goto("/");
  // The app's icon and web manifest come from public/.
  await expect(page.locator('link[rel="manifest"]')).toHaveAttribute("href", "/manifest.webmanifest");
  expect((await page.request.get("/icon.svg")).status()).toBe(200);
  await page.getByLabel("Repository").fill(repo);
  await page.getByLabel("Task", { exact: true }).fill("Add a contributing guide");
  // The base-branch field offers the repository's branches and names its default.
  await expect(page.getByTestId("base-branch-hint")).toHaveText("2 branches; empty: main.");
  await expect(page.getByTestId("base-branch-options").locator("option")).toHaveCount(2);
  expect(await page.getByTestId("base-branch-options").locator("option").evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value))).toEqual(["develop", "main"]);
  await expect(page.getByLabel("Base branch")).toHaveAttribute("placeholder", "main");
  await page.getByLabel("Base branch").fill("develop");
  await page.getByRole("button", { name: "Start task" }).click();

  await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);
  // No reload from here on: every change must arrive through the live stream.
  await expect(page.getByTestId("task-status")).toHaveAttribute("data-status", "completed", { timeout: 90_000 });
  await expect(page.getByTestId("task-branch")).toContainText("agents/add-a-contributing-guide-");
  await expect(page.getByTestId("task-base-branch")).toHaveText("develop");
  const commit = (await page.getByTestId("task-commit").getAttribute("title")) ?? (await page.getByTestId("task-commit").textContent());
  expect(commit).toMatch(/[0-9a-f]{40}/);
  for (const step of ["node_selection", "workspace_ready", "running", "cleanup"]) {
    await expect(page.getByTestId(`step-${step}`)).toHaveAttribute("data-status", "succeeded");
  }
  await expect(page.getByTestId("agent-output")).toContainText("script agent: wrote .agent/tasks/add-a-contributing-guide.md");
  await page.screenshot({ path: "test-results/e2e/task-completed.png", fullPage: true });

  await page.goto("/");
  await expect(page.getByTestId("task-list")).toContainText("Add a contributing guide");
  await page.screenshot({ path: "test-results/e2e/home.png", fullPage: true });
});

test("a bad submission shows the error beside the field", async ({ page }) => {
  await page.goto("/");
  await page.getByLabel("Repository").fill("not/a/url");
  await page.getByLabel("Task", { exact: true }).fill("Anything");
  await page.getByRole("button", { name: "Start task" }).click();
  await expect(page.getByLabel("Repository")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByText(/absolute local path or a git URL/)).toBeVisible();
});
