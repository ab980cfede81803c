/**
 * The operator's pages, live: the nodes page follows a node through a task and the destroy button;
 * the errors page shows a permanent failure linked to its task. These tests start a system of their
 * own, whose nodes page shows only the node its task made.
 */
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import type { RunningSystem } from "../scripts/system";
import { makeRepo } from "../tests/harness/git";
import { expectNoReload, markNoReload, startOwnSystem, type OwnSystem } from "./support";

let system: RunningSystem;
const url = (pathname: string) => `${system.appUrl}${pathname}`;


test.describe.configure({ mode: "serial" });

let own: OwnSystem | undefined;

test.beforeAll(async () => {
  test.setTimeout(240_000);
  // Its task completes when its turn ends (on main this passed only because stray wakes ended the 15-minute wait for a follow-up).
  own = await startOwnSystem("acp-e2e-ops-", { NODE_WARM_TIMEOUT: "10m", SESSION_IDLE_TIMEOUT: "0" });
  ({ system } = own);
});

test.afterAll(async () => own?.stop());
// Each test's browser signs in to this system as a person does, through a one-time link.
test.beforeEach(async ({ context }) => own!.signIn(context));

test("the nodes page follows a node live through a task, and its destroy button stops it", async ({ page, context }) => {
  await page.goto(url("/nodes"));
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "live");
  await expect(page.getByText("No nodes right now")).toBeVisible();
  await markNoReload(page);

  // Submit a task from the home page in another tab; the nodes page stays open, never reloaded.
  const submit = await context.newPage();
  await submit.goto(url("/"));
  await submit.getByLabel("Repository").fill(makeRepo());
  await submit.getByLabel("Task", { exact: true }).fill("Add a contributing guide");
  await submit.getByRole("button", { name: "Start task" }).click();
  await submit.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);

  // The node appears on the nodes page as the pipeline creates it.
  const card = page.locator('[data-testid^="node-n_"]');
  await expect(card).toHaveCount(1, { timeout: 30_000 });
  const nodeId = (await card.getAttribute("data-testid"))!.replace(/^node-/, "");

  await expect(submit.getByTestId("task-status")).toHaveAttribute("data-status", "completed", { timeout: 90_000 });

  // After the task the node goes warm, live: running, no slot taken, a heartbeat, its load.
  await expect(card.getByTestId("node-status")).toHaveAttribute("data-warm", "true", { timeout: 30_000 });
  await expect(card).toHaveAttribute("data-status", "running");
  await expect(card.getByTestId("node-status")).toHaveText(/Warm/);
  await expect(card.getByTestId("node-health")).toHaveAttribute("data-health", "healthy");
  await expect(card.getByTestId("node-slots")).toHaveAttribute("data-count", "0");
  await expect(card.getByTestId("node-slots")).toContainText("0 of 3");
  await expect(card.getByTestId("node-heartbeat")).toHaveText(/\d+ s ago|just now|min ago/);
  await expect(card.getByRole("meter", { name: "CPU" })).toBeVisible();
  // How it keeps workspaces apart came with its ready report (own users where its daemon can create them).
  await expect(card.getByTestId("node-isolation")).toHaveAttribute("data-isolation", /^(users|none)$/);
  await page.screenshot({ path: "test-results/e2e/nodes-warm.png", fullPage: true });

  // The task page names the node and links to it.
  await submit.getByRole("link", { name: nodeId }).click();
  await submit.waitForURL(new RegExp(`/nodes#node-${nodeId}$`));
  await expect(submit.getByTestId(`node-${nodeId}`)).toHaveAttribute("data-targeted", "true");
  await submit.close();

  // Destroy, with its confirm step: an idle node says so.
  await card.getByTestId("node-destroy").click();
  const confirm = card.getByTestId("node-destroy-confirm");
  await expect(confirm).toContainText("Destroy this node?");
  await confirm.getByRole("button", { name: "Keep it" }).click();
  await expect(confirm).toHaveCount(0);
  await card.getByTestId("node-destroy").click();
  await card.getByRole("button", { name: "Destroy node" }).click();

  await expect(card).toHaveAttribute("data-status", "stopped", { timeout: 30_000 });
  await expect(card.getByTestId("node-status")).toHaveText(/Stopped/);
  await expect(card.getByTestId("node-destroy")).toHaveCount(0);
  await expectNoReload(page);
  await page.screenshot({ path: "test-results/e2e/nodes-destroyed.png", fullPage: true });

  // The API agrees, and a second destroy is refused.
  const again = await page.request.post(url(`/api/nodes/${nodeId}/destroy`), { data: {} });
  expect(again.status()).toBe(409);
  expect((await again.json()).error).toBe(`node ${nodeId} is already stopped`);
  expect((await page.request.post(url("/api/nodes/n_unknown/destroy"), { data: {} })).status()).toBe(404);
});

test("the errors page shows a permanent failure live, linked to its task", async ({ page }) => {
  await page.goto(url("/errors"));
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "live");
  await expect(page.getByText("No errors recorded")).toBeVisible();
  await markNoReload(page);

  const missing = path.join(os.tmpdir(), `acp-e2e-no-such-repo-${Date.now()}`);
  const created = await page.request.post(url("/api/tasks"), { data: { repository: missing, prompt: "Fix the flaky date test" } });
  expect(created.status()).toBe(202);
  const { taskId } = (await created.json()) as { taskId: string };

  const row = page.locator('[data-testid^="error-"][data-kind="failure"]').filter({ hasText: missing });
  await expect(row).toHaveCount(1, { timeout: 60_000 });
  await expect(row.getByTestId("kind-badge")).toHaveText("Failure");
  await expect(row).toContainText("Create workspace");
  const link = row.getByTestId("error-task-link");
  await expect(link).toHaveText("Task: Fix the flaky date test");
  await expect(link).toHaveAttribute("href", `/tasks/${taskId}`);
  await expect(page.getByTestId("kind-filter-failure")).toContainText("1");
  await expectNoReload(page);
  await page.screenshot({ path: "test-results/e2e/errors.png", fullPage: true });

  // Filtering by kind: failures keep the row; stuck tasks are none, and the page says what would show.
  await page.getByTestId("kind-filter-failure").click();
  await expect(page).toHaveURL(/\/errors\?kind=failure$/);
  await expect(row).toHaveCount(1);
  await page.getByTestId("kind-filter-stuck").click();
  await expect(page.getByText("No stuck tasks")).toBeVisible();
  await expect(page.locator('[data-testid^="error-"][data-kind]')).toHaveCount(0);
  await page.getByTestId("kind-filter-all").click();

  await row.getByTestId("error-task-link").click();
  await page.waitForURL(url(`/tasks/${taskId}`));
  await expect(page.getByTestId("task-status")).toHaveAttribute("data-status", "failed");
  await expect(page.getByTestId("task-error")).toContainText(missing);
});
