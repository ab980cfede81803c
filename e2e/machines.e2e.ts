/**
 * "Add a machine" on the nodes page: the one-time install command with its Copy button and expiry;
 * the machine shows up live, as provider `machine`, once it registers (here the installer's request
 * is sent by the test: the real installer run is app/_server/machine-install.test.ts); "Remove
 * machine" forgets it. The command's token works once.
 */
import { expect, test } from "@playwright/test";
import { screenshots } from "./support";

const COMMAND = /^curl -fsSL (\S+)\/api\/vm-agent\/install\.sh \| sudo ACP_CONTROL_PLANE_URL=(\S+) ACP_REGISTRATION_TOKEN=(acpm_[A-Za-z0-9_-]{43}) sh$/;

test("a person adds a machine with the install command, sees it join, and removes it", async ({ page, request }) => {
  await page.goto("/nodes");
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "live");
  await page.getByTestId("add-machine").click();

  const shown = page.getByTestId("machine-command");
  await expect(shown).toBeFocused();
  const command = (await page.getByTestId("machine-command-value").textContent()) ?? "";
  const [, served, controlPlane, token] = COMMAND.exec(command) ?? [];
  expect(served, command).toBe(controlPlane);
  await expect(page.getByTestId("machine-command-expiry")).toHaveText(/^in (60 min|1 h)$/);
  await expect(shown.getByRole("button", { name: /^Cop(y|ied)$/ })).toBeEnabled();
  await screenshots(page, "nodes-add-machine");

  // What the installer sends first; the page shows the machine as soon as it is registered.
  const registered = await request.post("/api/machines/register", { data: { token, advertisedHost: "127.0.0.1" }, headers: { accept: "text/plain" } });
  expect(registered.status()).toBe(201);
  const nodeId = /^ACP_NODE_ID='(n_[0-9a-f]+)'$/m.exec(await registered.text())![1]!;
  const card = page.getByTestId(`node-${nodeId}`);
  await expect(card).toHaveAttribute("data-status", "creating");
  await expect(card).toContainText("machine · added by hand");

  // The same command again is refused: its token works once.
  const again = await request.post("/api/machines/register", { data: { token } });
  expect(again.status()).toBe(410);
  expect((await again.json()).error).toMatch(/was used at/);

  await shown.getByRole("button", { name: "Done" }).click();
  await expect(shown).toHaveCount(0);
  await card.getByRole("button", { name: "Remove machine" }).click();
  await expect(card.getByTestId("node-destroy-confirm")).toContainText("The control plane forgets it");
  await card.getByRole("button", { name: "Remove machine" }).click();
  await expect(card).toHaveAttribute("data-status", "stopped");
});
