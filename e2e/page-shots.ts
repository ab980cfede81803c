/**
 * Every page, full length at 375 and 1440 px wide, into SHOTS_DIR: home with its list, a completed
 * task (conversation, diff, pipeline, network), the same task's tool call opened, nodes with a warm
 * node, errors with a failure, settings, and sign-in signed out. Run by e2e/shots.config.ts only.
 */
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test, type Page } from "@playwright/test";
import { buildApp } from "../scripts/system";
import { makeRepo } from "../tests/harness/git";
import { type OwnSystem, screenshots, startOwnSystem } from "./support";

const AGENT = fileURLToPath(new URL("./fixtures/conversation-agent.mjs", import.meta.url));
const SHOTS_DIR = process.env.SHOTS_DIR ?? "test-results/shots";

let own: OwnSystem | undefined;
const url = (pathname: string) => `${own!.system.appUrl}${pathname}`;

test.beforeAll(async () => {
  test.setTimeout(600_000);
  buildApp();
  own = await startOwnSystem("acp-shots-", { NODE_WARM_TIMEOUT: "10m", SESSION_IDLE_TIMEOUT: "0", SCRIPT_AGENT_COMMAND: `node ${AGENT}` });
});
test.afterAll(async () => own?.stop());

const shoot = (page: Page, name: string) => screenshots(page, name, SHOTS_DIR);

test("every page", async ({ page, browser }) => {
  const signedOut = await browser.newContext();
  const signInPage = await signedOut.newPage();
  await signInPage.goto(url("/sign-in"));
  await shoot(signInPage, "sign-in");
  await signedOut.close();

  await own!.signIn(page.context());
  await page.goto(url("/"));
  await page.getByLabel("Repository").fill(makeRepo());
  await page.getByLabel("Task", { exact: true }).fill("Fix the failing date test");
  await page.getByRole("button", { name: "Start task" }).click();
  await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("task-status")).toHaveAttribute("data-status", "completed", { timeout: 120_000 });
  await expect(page.getByTestId("step-cleanup")).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  await page.waitForTimeout(1_000); // let the diff and network cards settle before the picture
  await shoot(page, "task-completed");
  const toolCall = page.locator("details").first();
  if (await toolCall.count()) {
    await toolCall.locator("summary").click();
    await shoot(page, "task-tool-open");
  }

  const missing = path.join(os.tmpdir(), `acp-shots-no-such-repo-${Date.now()}`);
  expect((await page.request.post(url("/api/tasks"), { data: { repository: missing, prompt: "Fix the flaky date test" } })).status()).toBe(202);
  await page.goto(url("/errors"));
  await expect(page.locator('[data-testid^="error-"][data-kind="failure"]')).toHaveCount(1, { timeout: 60_000 });
  await shoot(page, "errors");

  await page.goto(url("/"));
  await expect(page.getByTestId("task-list")).toContainText("Fix the failing date test");
  await shoot(page, "home");
  await page.getByRole("button", { name: "Start task" }).click();
  await shoot(page, "home-invalid");

  await page.goto(url("/nodes"));
  await expect(page.locator('[data-testid^="node-n_"]')).toHaveCount(1, { timeout: 30_000 });
  await shoot(page, "nodes");

  await page.goto(url("/settings"));
  await expect(page.getByRole("heading", { name: "Settings", level: 1 })).toBeVisible();
  await page.waitForTimeout(1_000); // the settings sections load one by one
  await shoot(page, "settings");
});
