import { expect, test } from "@playwright/test";

const VALUE = "sk-ant-api03-typed-in-the-browser-once";

test("a person adds, replaces and deletes a secret in settings, and its value never comes back", async ({ page, request }) => {
  await page.goto("/settings#secrets");
  const row = page.getByTestId("secret-ANTHROPIC_API_KEY");
  await expect(row).toHaveAttribute("data-set", "false");

  // An empty value is refused with the field named, in words.
  await row.getByTestId("secret-edit-ANTHROPIC_API_KEY").click();
  await row.getByRole("button", { name: "Save" }).click();
  await expect(row.getByRole("alert")).toContainText("value");

  await row.getByLabel("Anthropic API key (Claude Code)", { exact: true }).fill(VALUE);
  await row.getByRole("button", { name: "Save" }).click();
  await expect(row).toHaveAttribute("data-set", "true");
  await expect(row.getByTestId("secret-state")).toHaveText("Set");
  expect(await page.content()).not.toContain(VALUE);
  const listed = await request.get("/api/secrets");
  expect(await listed.text()).not.toContain(VALUE);
  expect((await listed.json()).secrets).toEqual([expect.objectContaining({ name: "ANTHROPIC_API_KEY" })]);
  await page.screenshot({ path: "test-results/e2e/settings-secrets.png", fullPage: true });

  await row.getByTestId("secret-edit-ANTHROPIC_API_KEY").click();
  await row.getByLabel("Anthropic API key (Claude Code)", { exact: true }).fill(`${VALUE}-replaced`);
  await row.getByRole("button", { name: "Save" }).click();
  await expect(row.getByTestId("secret-form-ANTHROPIC_API_KEY")).toHaveCount(0);
  expect(await page.content()).not.toContain(VALUE);

  await row.getByRole("button", { name: "Delete" }).click();
  await row.getByTestId("secret-delete-ANTHROPIC_API_KEY").click();
  await expect(row).toHaveAttribute("data-set", "false");
  expect((await (await request.get("/api/secrets")).json()).secrets).toEqual([]);
});
