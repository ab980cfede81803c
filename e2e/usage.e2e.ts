import { expect, test, type Page } from "@playwright/test";
import type { TaskDetail, TaskList, UsageReport } from "../lib/contracts/api";
import { NO_USAGE } from "../lib/contracts/usage";
import { makeRepo } from "../tests/harness/git";
import { screenshots } from "./support";

/** Submits a task with the default (script) agent in the browser and waits on its page until it is cleaned up. */
async function runTask(page: Page, prompt: string): Promise<string> {
  await page.goto("/");
  await page.getByLabel("Repository").fill(makeRepo());
  await page.getByLabel("Task", { exact: true }).fill(prompt);
  await page.getByRole("button", { name: "Start task" }).click();
  await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("task-status")).toHaveAttribute("data-status", "completed", { timeout: 90_000 });
  await expect(page.getByTestId("step-cleanup")).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  return new URL(page.url()).pathname.split("/").pop()!;
}

test("a finished task shows its node time, and the usage page its totals and a bar per day", async ({ page }) => {
  test.setTimeout(180_000);
  const id = await runTask(page, "Write the usage notes");

  // The script agent reports no tokens: the card has node time only, and says why.
  const card = page.getByTestId("task-usage");
  await expect(card.getByRole("heading", { name: "Usage" })).toBeVisible();
  await expect(card.getByTestId("usage-node-time")).toHaveText(/^\d+ s$|^\d+ min \d+ s$/, { timeout: 15_000 }); // no "still on its node" once cleaned up
  await expect(card.getByTestId("usage-no-tokens")).toHaveText("The script agent reports no token usage.");
  await expect(card.getByTestId("usage-cost")).toHaveCount(0);
  await expect(card.getByTestId("usage-turns")).toHaveCount(0);
  await screenshots(page, "usage-task-script");

  // Its row in the list has no cost (no agent reported usage).
  await page.goto("/");
  await expect(page.getByTestId(`task-row-${id}`)).toContainText("Write the usage notes");
  await expect(page.getByTestId(`task-row-${id}`).getByTestId("task-row-cost")).toHaveCount(0);

  const usageLink = page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Usage" });
  await usageLink.click();
  await page.waitForURL(/\/usage$/);
  await expect(page.getByRole("heading", { name: "Usage", level: 1 })).toBeVisible();
  await expect(usageLink).toHaveAttribute("aria-current", "page");
  await expect(page.getByTestId("usage-window")).toContainText("Last 30 days");
  // Local mode has one person: nothing to switch to.
  await expect(page.getByTestId("usage-scope-team")).toHaveCount(0);
  // Nothing on this system reports tokens, so no cost; the task's time on its node counts.
  await expect(page.getByTestId("usage-total-cost")).toContainText("$0.00");
  await expect(page.getByTestId("usage-total-tokens")).toContainText("0");
  await expect(page.getByTestId("usage-total-node-time").locator("dd").first()).not.toHaveText("0 s");
  const chart = page.getByTestId("usage-chart");
  await expect(chart.getByRole("listitem")).toHaveCount(30);
  await expect(chart.getByTestId("usage-chart-empty")).toHaveText("No cost in these 30 days");
  await chart.getByRole("button", { name: "Node time" }).click();
  await expect(chart).toHaveAttribute("data-metric", "nodeTime");
  await expect(chart.getByTestId("usage-chart-empty")).toHaveCount(0);
  await expect(chart.locator('li:not([data-empty])').first()).toHaveAttribute("title", /: (\d+ s|\d+ min \d+ s|\d+ h \d+ min)$/);
  await expect(page.getByTestId("usage-day-table").locator("tbody")).not.toHaveCount(0);
  await screenshots(page, "usage-page-script");
});

const day = (offset: number) => new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10);
const usageDay = (offset: number, userId: string, figures: Partial<UsageReport["days"][number]>) => ({ ...NO_USAGE, tasks: 0, nodeMs: 0, day: day(offset), userId, ...figures });

/** A month with token usage: a priced day, one with an unpriced turn, and a second person (for the team's view). */
function usageReport(team: boolean): UsageReport {
  const days = [
    usageDay(12, "local", { inputTokens: 1_200, outputTokens: 3_400, cacheReadTokens: 48_000, cacheWriteTokens: 6_000, costUsd: 0.42, turns: 3, tasks: 1, nodeMs: 480_000 }),
    usageDay(3, "local", { inputTokens: 300, outputTokens: 900, costUsd: 0.0038, turns: 1, tasks: 1, nodeMs: 95_000 }),
    usageDay(1, "local", { inputTokens: 5_000, outputTokens: 12_000, cacheReadTokens: 210_000, costUsd: 1.87, turns: 6, unpricedTurns: 1, tasks: 2, nodeMs: 1_900_000 }),
    ...(team ? [usageDay(1, "u_bea", { inputTokens: 800, outputTokens: 2_100, costUsd: 0.31, turns: 2, tasks: 1, nodeMs: 240_000 })] : []),
  ];
  const total = days.reduce((sum, d) => ({ ...sum, inputTokens: sum.inputTokens + d.inputTokens, outputTokens: sum.outputTokens + d.outputTokens, cacheReadTokens: sum.cacheReadTokens + d.cacheReadTokens, cacheWriteTokens: sum.cacheWriteTokens + d.cacheWriteTokens, costUsd: sum.costUsd + d.costUsd, turns: sum.turns + d.turns, unpricedTurns: sum.unpricedTurns + d.unpricedTurns, nodeMs: sum.nodeMs + d.nodeMs }), { ...NO_USAGE, nodeMs: 0 });
  const people = [{ id: "local", name: "Local user", email: "local@localhost" }, ...(team ? [{ id: "u_bea", name: "Bea Lindqvist", email: "bea@example.com" }] : [])];
  return { from: day(29), to: day(0), days, people, total };
}

const turn = (attempt: number, number: number, figures: Partial<TaskDetail["usageDetail"]["turns"][number]>): TaskDetail["usageDetail"]["turns"][number] => ({
  attempt,
  turn: number,
  inputTokens: 480,
  outputTokens: 96,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd: 0.00384,
  costSource: "agent",
  endedAt: new Date().toISOString(),
  ...figures,
});

const TURNS = [turn(1, 1, {}), turn(2, 1, { inputTokens: 12, outputTokens: 340, cacheReadTokens: 9_000, cacheWriteTokens: 1_500, costUsd: 0.0421, costSource: "price-table" }), turn(2, 2, { outputTokens: 2_200, costUsd: null, costSource: null })];

/**
 * The figures of agents that report tokens (the script agent reports none), with the API's answers
 * stood in for: the task card's table and incomplete cost, a row's cost, and the team's usage. The
 * live streams are cut so they do not replace the stand-ins.
 */
test("tokens, costs and an unpriced turn read right on the task page, the list and the usage page", async ({ page }) => {
  test.setTimeout(180_000);
  const id = await runTask(page, "Price the usage notes");
  const usageDetail = { turns: TURNS, total: { ...NO_USAGE, inputTokens: 972, outputTokens: 2_632, cacheReadTokens: 9_000, cacheWriteTokens: 1_500, costUsd: 0.04604, turns: 3, unpricedTurns: 1 }, nodeMs: 252_000, onNode: true };
  for (const stream of ["**/api/events*", "**/api/**/events*"]) await page.route(stream, (route) => route.abort());
  await page.route(`**/api/tasks/${id}`, async (route) => {
    const task = (await (await route.fetch()).json()) as TaskDetail;
    await route.fulfill({ json: { ...task, usageDetail } satisfies TaskDetail });
  });
  await page.reload();
  const card = page.getByTestId("task-usage");
  await expect(card.getByTestId("usage-cost")).toHaveText("$0.05 + 1 unpriced turn");
  await expect(card.getByTestId("usage-unpriced")).toContainText("no price in MODEL_PRICES");
  await expect(card.getByTestId("usage-node-time")).toContainText("4 min 12 s");
  await expect(card.getByTestId("usage-node-time")).toContainText("still on its node");
  await expect(card.getByTestId("usage-turns").locator("thead")).toContainText("Attempt · turn");
  await expect(card.getByTestId("usage-turn-1-1")).toContainText("$0.0038");
  await expect(card.getByTestId("usage-turn-1-1").getByTestId("usage-turn-source")).toHaveText("reported by the CLI");
  await expect(card.getByTestId("usage-turn-2-1").getByTestId("usage-turn-source")).toHaveText("priced from MODEL_PRICES");
  await expect(card.getByTestId("usage-turn-2-1")).toContainText("12 in · 340 out · 9k cache read · 1.5k cache write");
  await expect(card.getByTestId("usage-turn-2-2").getByTestId("usage-turn-source")).toHaveText("no price");
  await screenshots(page, "usage-task-tokens");

  await page.route("**/api/tasks", async (route) => {
    const list = (await (await route.fetch()).json()) as TaskList;
    const tasks = list.tasks.map((task, index) => (task.id === id ? { ...task, usage: { costUsd: 0.04604, tokens: 14_104, unpricedTurns: 1 } } : index % 2 ? { ...task, usage: { costUsd: 1.2345, tokens: 1_250_000, unpricedTurns: 0 } } : task));
    await route.fulfill({ json: { tasks } satisfies TaskList });
  });
  await page.goto("/");
  const cost = page.getByTestId(`task-row-${id}`).getByTestId("task-row-cost");
  await expect(cost).toHaveText("Cost $0.05 + 1 unpriced");
  await expect(cost).toHaveAttribute("title", /^14\.1k tokens \(14,104\); 1 turn's model has no price in MODEL_PRICES/);
  await screenshots(page, "usage-task-list");

  // An admin in team mode may switch to the team's usage.
  await page.route("**/api/me", (route) => route.fulfill({ json: { mode: "team", user: { id: "local", name: "Local user", email: "local@localhost", role: "admin" }, via: "session" } }));
  await page.route("**/api/usage?*", (route) => route.fulfill({ json: usageReport(new URL(route.request().url()).searchParams.get("scope") === "team") }));
  await page.goto("/usage");
  await expect(page.getByTestId("usage-total-cost")).toContainText("$2.29");
  await expect(page.getByTestId("usage-total-cost")).toContainText("+ 1 unpriced turn");
  await expect(page.getByTestId("usage-chart").getByTestId(`usage-bar-${day(1)}`)).toHaveAttribute("title", /: \$1\.87$/);
  await expect(page.getByTestId("usage-chart").locator("li[data-empty]")).toHaveCount(27);
  await expect(page.getByTestId(`usage-day-${day(1)}`)).toContainText("$1.87 + 1 unpriced");
  await expect(page.getByTestId(`usage-day-${day(1)}`).locator("td").first()).toHaveAttribute("title", /^1 turn's model has no price in MODEL_PRICES/);
  await expect(page.getByTestId("usage-people-table")).toHaveCount(0);
  await screenshots(page, "usage-page-mine");

  await page.getByTestId("usage-scope-team").click();
  await page.waitForURL(/\/usage\?scope=team$/);
  await expect(page.getByTestId("usage-window")).toContainText("The team's");
  await expect(page.getByTestId("usage-person-u_bea")).toContainText("Bea Lindqvist");
  await expect(page.getByTestId(`usage-day-${day(1)}`).locator("tr")).toHaveCount(2);
  await screenshots(page, "usage-page-team");
});
