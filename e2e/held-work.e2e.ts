/**
 * Work whose push was refused, in the browser: the task page says so and keeps the work on its
 * node until the person decides; "Push again" while the remote still refuses says so, and once it
 * takes pushes the commit lands and the card goes.
 */
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { git, makeRepo } from "../tests/harness/git";
import { screenshots } from "./support";

test("a refused push is held on the node until the person pushes it again from the task page", async ({ page }) => {
  const repo = makeRepo();
  const hook = path.join(repo, ".git", "hooks", "pre-receive");
  fs.writeFileSync(hook, "#!/bin/sh\necho 'pushes are frozen until the release' >&2\nexit 1\n", { mode: 0o755 });
  await page.goto("/");
  await page.getByLabel("Repository").fill(repo);
  await page.getByLabel("Task", { exact: true }).fill("Write the migration notes");
  await page.getByRole("button", { name: "Start task" }).click();
  await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);

  const held = page.getByTestId("held-work");
  await expect(page.getByTestId("task-status")).toHaveAttribute("data-status", "completed", { timeout: 90_000 });
  await expect(held).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("held-work-error")).toContainText("pushes are frozen until the release");
  await screenshots(page, "held-work");

  // Still refused: said in the card, the work stays.
  await page.getByTestId("held-work-push").click();
  await expect(page.getByTestId("held-work-refused")).toContainText("pushes are frozen until the release");
  await expect(held).toBeVisible();

  // The remote takes pushes again: the commit lands, the card goes, and the task says pushed.
  fs.rmSync(hook);
  const commit = (await page.getByTestId("task-commit").textContent()) ?? "";
  await page.getByTestId("held-work-push").click();
  await expect(held).toHaveCount(0, { timeout: 30_000 });
  await expect(page.locator("dt", { hasText: /^Pushed$/ }).locator("xpath=following-sibling::dd[1]")).toHaveText("yes");
  const branch = (await page.getByTestId("task-branch").textContent()) ?? "";
  expect(git(repo, "rev-parse", branch)).toBe(commit);
});
