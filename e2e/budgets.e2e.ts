/**
 * Budgets in the browser, on a system of its own (TASK_BUDGET_USD=2, USER_DAILY_BUDGET_USD=5, and a
 * task waits 10 minutes for a follow-up): the form's Budget field (its default, a refused amount,
 * a task started with one shows it on its page), Settings → Spend limits saving and showing values,
 * and the banner of a task a budget holds. The script agent spends nothing, so the held task is
 * given to the page by its answer and its live stream (as e2e/ci.e2e.ts does for turn summaries);
 * the raise goes to the real API, except a 422 the test answers itself.
 */
import { expect, test, type Page } from "@playwright/test";
import type { PersonBudgetsView, TaskBudgetView, TaskDetail } from "../lib/contracts/api";
import { makeRepo } from "../tests/harness/git";
import { type OwnSystem, screenshots, startOwnSystem } from "./support";

let own: OwnSystem | undefined;
const url = (pathname: string) => `${own!.system.appUrl}${pathname}`;

/** "10:00" down to "9:00": a wait of SESSION_IDLE_TIMEOUT=10m that began a moment ago. */
const FRESH_COUNTDOWN = /^(10:00|9:[0-5]\d)$/;

test.beforeAll(async () => {
  test.setTimeout(240_000);
  own = await startOwnSystem("acp-e2e-budgets-", { SESSION_IDLE_TIMEOUT: "10m", TASK_BUDGET_USD: "2", USER_DAILY_BUDGET_USD: "5" });
});
test.afterAll(async () => own?.stop());
// Each test's browser signs in to this system as a person does, through a one-time link.
test.beforeEach(async ({ context }) => own!.signIn(context));

async function readTask(page: Page, taskId: string): Promise<TaskDetail> {
  return (await (await page.request.get(url(`/api/tasks/${taskId}`))).json()) as TaskDetail;
}

test("the form's Budget field: the default as its placeholder, a refused amount beside it, and a task started with a budget shows it", async ({ page }) => {
  test.setTimeout(180_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(url("/"));
  const budget = page.getByLabel("Budget (USD)");
  await expect(budget).toHaveAttribute("placeholder", "2");
  await expect(page.getByText("Empty: $2.00, the default; 0: no limit.")).toBeVisible();
  await page.getByLabel("Repository").fill(makeRepo());
  await page.getByLabel("Task", { exact: true }).fill("Write the release notes");
  await screenshots(page, "budgets-form");

  // The shared schema refuses it before anything is sent, in its own words under the label's name.
  let posted = 0;
  page.on("request", (request) => {
    if (request.method() === "POST" && new URL(request.url()).pathname === "/api/tasks") posted++;
  });
  await budget.fill("2.555");
  await page.getByRole("button", { name: "Start task" }).click();
  await expect(budget).toHaveAttribute("aria-invalid", "true");
  await expect(budget).toBeFocused();
  await expect(page.locator("#new-task-budgetUsd-error")).toHaveText("Budget (USD) must be in whole cents");
  await budget.fill("two dollars");
  await expect(budget).not.toHaveAttribute("aria-invalid", "true");
  await page.getByRole("button", { name: "Start task" }).click();
  await expect(page.locator("#new-task-budgetUsd-error")).toHaveText("Budget (USD) must be an amount of US dollars, such as 2.5");
  expect(posted).toBe(0);
  await screenshots(page, "budgets-form-invalid");

  // The server's 422 for the field shows there too.
  await page.route("**/api/tasks", (route) =>
    route.request().method() === "POST" ? route.fulfill({ status: 422, json: { error: "budgetUsd must be at most 100000", field: "budgetUsd" } }) : route.fallback(),
  );
  await budget.fill("$3.50");
  await page.getByRole("button", { name: "Start task" }).click();
  await expect(page.locator("#new-task-budgetUsd-error")).toHaveText("Budget (USD) must be at most 100000");
  await expect(page).toHaveURL(url("/"));
  await page.unroute("**/api/tasks");

  await page.getByRole("button", { name: "Start task" }).click();
  await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);
  const taskId = page.url().split("/").pop()!;
  const meter = page.getByTestId("usage-budget");
  await expect(page.getByTestId("usage-budget-figure")).toHaveText("$0.00 of $3.50");
  await expect(meter).toHaveAttribute("data-level", "ok");
  await expect(meter.getByRole("meter", { name: "Budget" })).toHaveAttribute("aria-valuemax", "3.5");
  expect((await readTask(page, taskId)).budget).toMatchObject({ limitUsd: 3.5, paused: null });
  await expect(page.getByTestId("followup-countdown")).toHaveText(FRESH_COUNTDOWN, { timeout: 90_000 });
  await page.getByTestId("task-finish").click();
  await expect(page.getByTestId("task-status")).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
});

test("Settings → Spend limits: the defaults and what was spent, an amount refused beside its period, and saved limits shown again", async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(url("/settings"));
  const section = page.locator("#spend-limits");
  const day = section.getByTestId("spend-limit-day");
  const month = section.getByTestId("spend-limit-month");
  await expect(day.getByRole("radio", { name: "Default ($5.00)" })).toBeChecked();
  await expect(month.getByRole("radio", { name: "Default (no limit)" })).toBeChecked();
  await expect(day.getByTestId("spend-limit-day-spent-figure")).toHaveText("$0.00 of $5.00");
  await expect(month.getByTestId("spend-limit-month-spent-figure")).toHaveText("$0.00 spent · no limit");
  await expect(section.getByRole("button", { name: "Save" })).toBeDisabled();
  await screenshots(page, "budgets-settings");

  // Typing an amount chooses it; one in fractions of a cent is refused beside its period.
  await day.getByLabel("Per day: amount in US dollars").fill("7.555");
  await expect(day.getByRole("radio", { name: "Amount" })).toBeChecked();
  await expect(section.getByTestId("spend-limits-save-state")).toHaveText("Unsaved changes");
  await section.getByRole("button", { name: "Save" }).click();
  await expect(day.getByRole("alert")).toHaveText("The daily limit must be in whole cents");
  await day.getByLabel("Per day: amount in US dollars").fill("7.5");
  await month.getByRole("radio", { name: "No limit", exact: true }).check();
  await section.getByRole("button", { name: "Save" }).click();
  await expect(section.getByTestId("spend-limits-save-state")).toHaveText("Saved");
  await expect(day.getByTestId("spend-limit-day-spent-figure")).toHaveText("$0.00 of $7.50");
  const saved = (await (await page.request.get(url("/api/settings/budgets"))).json()) as PersonBudgetsView;
  expect(saved).toMatchObject({ own: { dailyUsd: 7.5, monthlyUsd: 0 }, dailyUsd: 7.5, monthlyUsd: 0 });
  await screenshots(page, "budgets-settings-saved");

  // A new visit shows them as saved; back to the defaults.
  await page.reload();
  await expect(day.getByRole("radio", { name: "Amount" })).toBeChecked();
  await expect(day.getByLabel("Per day: amount in US dollars")).toHaveValue("7.50");
  await expect(month.getByRole("radio", { name: "No limit", exact: true })).toBeChecked();
  await day.getByRole("radio", { name: "Default ($5.00)" }).check();
  await month.getByRole("radio", { name: "Default (no limit)" }).check();
  await section.getByRole("button", { name: "Save" }).click();
  await expect(section.getByTestId("spend-limits-save-state")).toHaveText("Saved");
  await expect(day.getByTestId("spend-limit-day-spent-figure")).toHaveText("$0.00 of $5.00");
  expect(((await (await page.request.get(url("/api/settings/budgets"))).json()) as PersonBudgetsView).own).toEqual({ dailyUsd: null, monthlyUsd: null });
});

const TASK_PAUSE = { reason: "budget of $2.00 reached ($2.04 spent): raise it or finish", kind: "task", interruptedTurn: 1 } as const;
const DAY_PAUSE = { reason: "daily budget of $5.00 reached ($5.10 spent today): raise it in settings, wait until tomorrow (UTC) or finish", kind: "day", interruptedTurn: null } as const;

test("a task a budget holds: the banner with its reason, countdown and Finish now; the raise form shows a 422's message and raises it; a day's limit links to the settings", async ({ page }) => {
  test.setTimeout(180_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  const created = await page.request.post(url("/api/tasks"), { data: { repository: makeRepo(), prompt: "Write the changelog" } });
  expect(created.status()).toBe(202);
  const { taskId } = (await created.json()) as { taskId: string };
  await page.goto(url(`/tasks/${taskId}`));
  await expect(page.getByTestId("followup-countdown")).toHaveText(FRESH_COUNTDOWN, { timeout: 90_000 });
  await expect(page.getByTestId("usage-budget-figure")).toHaveText("$0.00 of $2.00");

  // The page is given the task as the API answers, held by the budget the test chooses (none: as it is).
  let held: { budget: Partial<TaskBudgetView>; pause: Omit<NonNullable<TaskBudgetView["paused"]>, "since"> } | null = null;
  const since = new Date().toISOString();
  const current = async (): Promise<TaskDetail> => {
    const task = await readTask(page, taskId);
    return held ? { ...task, budget: { ...task.budget, ...held.budget, paused: { since, ...held.pause } } } : task;
  };
  await page.route(`**/api/tasks/${taskId}`, async (route) => route.fulfill({ json: await current() }));
  await page.route(`**/api/tasks/${taskId}/events`, async (route) =>
    route.fulfill({ status: 200, contentType: "text/event-stream", body: `id: 1\ndata: ${JSON.stringify({ type: "task", task: await current() })}\n\n` }),
  );
  held = { budget: { limitUsd: 2, spentUsd: 2.04 }, pause: TASK_PAUSE };
  await page.reload();

  const banner = page.getByTestId("budget-pause");
  await expect(banner).toHaveAttribute("data-kind", "task");
  await expect(banner.getByTestId("budget-pause-title")).toHaveText("Paused: the task reached its budget");
  await expect(banner.getByTestId("budget-pause-reason")).toHaveText(TASK_PAUSE.reason);
  await expect(banner).toContainText("Turn 1 was stopped mid-way; its work is committed and pushed");
  await expect(banner.getByTestId("budget-pause-countdown")).toHaveText(FRESH_COUNTDOWN);
  await expect(banner.getByRole("button", { name: "Finish now" })).toBeVisible();
  await expect(page.getByTestId("followup-wait")).toHaveCount(0);
  await expect(page.getByTestId("followup-form")).toContainText("a message waits until the budget is raised");
  const meter = page.getByTestId("usage-budget");
  await expect(page.getByTestId("usage-budget-figure")).toHaveText("$2.04 of $2.00");
  await expect(meter).toHaveAttribute("data-level", "reached");
  await expect(meter).toHaveAttribute("data-tone", "bad");
  // Prefilled with the suggestion: double the limit, past the spend.
  const amount = banner.getByLabel("Raise to");
  await expect(amount).toHaveValue("4");
  await screenshots(page, "budgets-paused");

  // Not an amount: refused here, nothing sent.
  const puts: unknown[] = [];
  page.on("request", (request) => {
    if (request.method() === "PUT" && request.url().endsWith(`/api/tasks/${taskId}/budget`)) puts.push(request.postDataJSON());
  });
  const error = banner.getByTestId("budget-raise-error");
  await amount.fill("");
  await banner.getByRole("button", { name: "Raise" }).click();
  await expect(error).toHaveText("The budget must be an amount of US dollars, such as 2.5");
  expect(puts).toHaveLength(0);

  // At or under the spend: the API's 422 (answered by the test: the real task spent nothing) shows its message.
  await page.route(`**/api/tasks/${taskId}/budget`, (route) =>
    route.fulfill({ status: 422, json: { error: "budgetUsd must be more than the $2.04 the task has spent (or 0 for no limit)", field: "budgetUsd" } }),
  );
  await amount.fill("2");
  await expect(error).toHaveCount(0);
  await banner.getByRole("button", { name: "Raise" }).click();
  await expect(error).toHaveText("The budget must be more than the $2.04 the task has spent (or 0 for no limit)");
  await expect(amount).toHaveAttribute("aria-invalid", "true");
  await banner.screenshot({ path: "test-results/e2e/budgets-raise-refused-1440.png" });
  await page.setViewportSize({ width: 375, height: 812 });
  await banner.screenshot({ path: "test-results/e2e/budgets-raise-refused-375.png" });
  await page.setViewportSize({ width: 1440, height: 900 });

  // The real API raises it; the task is no longer held, and waits for its follow-up again.
  await page.unroute(`**/api/tasks/${taskId}/budget`);
  await page.route(`**/api/tasks/${taskId}/budget`, async (route) => {
    const response = await route.fetch();
    if (response.ok()) held = null;
    await route.fulfill({ response });
  });
  await amount.fill("4");
  await banner.getByRole("button", { name: "Raise" }).click();
  await expect(banner).toHaveCount(0);
  await expect(page.getByTestId("followup-wait")).toBeVisible();
  await expect(page.getByTestId("usage-budget-figure")).toHaveText("$0.00 of $4.00");
  expect(puts).toEqual([{ budgetUsd: 2 }, { budgetUsd: 4 }]);
  expect((await readTask(page, taskId)).budget).toMatchObject({ limitUsd: 4, paused: null });

  // Held by the person's limit for the day: no raise here, a link to the settings.
  held = { budget: {}, pause: DAY_PAUSE };
  await page.reload();
  await expect(banner).toHaveAttribute("data-kind", "day");
  await expect(banner.getByTestId("budget-pause-title")).toHaveText("Paused: your spend limit for today is reached");
  await expect(banner.getByTestId("budget-pause-reason")).toHaveText(DAY_PAUSE.reason);
  await expect(banner.getByTestId("budget-raise")).toHaveCount(0);
  await expect(meter).toHaveAttribute("data-level", "reached");
  const link = banner.getByRole("link", { name: "Raise your daily limit" });
  await expect(link).toHaveAttribute("href", "/settings#spend-limits");
  await screenshots(page, "budgets-paused-day");
  await link.click();
  await page.waitForURL(url("/settings#spend-limits"));
  await expect(page.getByRole("heading", { name: "Spend limits" })).toBeInViewport();
  await page.goBack();

  // Finish now works while held: the task completes.
  await banner.getByRole("button", { name: "Finish now" }).click();
  await expect(page.getByTestId("task-status")).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  await expect(banner).toHaveCount(0);
});
