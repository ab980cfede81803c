import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { NetworkSettingsView } from "../lib/contracts/api";
import { DEFAULT_REGISTRY_HOSTS } from "../lib/config";
import { makeRepo } from "../tests/harness/git";
import { hostAddress } from "../tests/harness/host-address";
import { startOwnSystem, type OwnSystem } from "./support";

// A system of its own: this file saves the person's settings, which every other file's tasks would take.
let own: OwnSystem | undefined;
const url = (pathname: string) => `${own!.system.appUrl}${pathname}`;
const readSettings = async (request: APIRequestContext) => NetworkSettingsView.parse(await (await request.get(url("/api/settings/network"))).json());

test.beforeAll(async () => {
  own = await startOwnSystem("acp-e2e-network-", { SESSION_IDLE_TIMEOUT: "0" });
});
test.afterAll(async () => own?.stop());
test.beforeEach(async ({ context }) => own!.signIn(context));

test("a person sets their network policy and hosts in settings; a bad entry is refused beside its field", async ({ page }) => {
  const request = page.request;
  await page.goto(url("/settings#network"));
  const card = page.getByTestId("network-settings");
  const hosts = card.getByLabel("Allowed hosts");
  const privates = card.getByLabel("Private addresses allowed");
  const state = card.getByTestId("network-save-state");

  // The configured defaults, said to be such until saved: allow-list, the package registries.
  await expect(card.getByRole("radio", { name: "Allow-list" })).toBeChecked();
  await expect(hosts).toHaveValue(DEFAULT_REGISTRY_HOSTS.join("\n"));
  await expect(card.getByTestId("network-allowHosts-badge")).toHaveText("defaults");
  await expect(state).toHaveAttribute("data-state", "defaults");

  await card.getByRole("radio", { name: "None" }).check();
  await hosts.fill("registry.npmjs.org\n\n*.pythonhosted.org\nGHE.example.com:8443\nregistry.npmjs.org");
  await privates.fill("10.1.0.0/16");
  await expect(state).toHaveAttribute("data-state", "changed");
  await card.getByRole("button", { name: "Save" }).click();
  await expect(state).toHaveAttribute("data-state", "saved");
  // As stored: lower-cased, the repeat gone, the blank line dropped.
  await expect(hosts).toHaveValue("registry.npmjs.org\n*.pythonhosted.org\nghe.example.com:8443");
  await expect(card.getByTestId("network-allowHosts-badge")).toHaveCount(0);
  expect(await readSettings(request)).toEqual({ defaultPolicy: "none", allowHosts: ["registry.npmjs.org", "*.pythonhosted.org", "ghe.example.com:8443"], allowPrivate: ["10.1.0.0/16"], saved: true });

  await page.reload();
  await expect(card.getByRole("radio", { name: "None" })).toBeChecked();
  await expect(hosts).toHaveValue("registry.npmjs.org\n*.pythonhosted.org\nghe.example.com:8443");
  await expect(privates).toHaveValue("10.1.0.0/16");
  await expect(state).toHaveAttribute("data-state", "saved");
  await expect(card.getByRole("button", { name: "Save" })).toBeDisabled();

  // A host the API refuses: the error names the entry, beside the hosts field, and nothing is saved.
  await hosts.fill("registry.npmjs.org\nnot a host\n*.pythonhosted.org");
  await card.getByRole("button", { name: "Save" }).click();
  await expect(hosts).toHaveAttribute("aria-invalid", "true");
  const hostsError = page.locator(`#${await hosts.getAttribute("aria-describedby")}`);
  await expect(hostsError).toHaveText("“not a host” must be a host name, *.domain, optionally with :port");
  await expect(privates).not.toHaveAttribute("aria-invalid", "true");
  await expect(state).toHaveAttribute("data-state", "changed");
  await page.screenshot({ path: "test-results/e2e/settings-network-error.png", fullPage: true });
  // Editing the field clears its error.
  await hosts.fill("registry.npmjs.org");
  await expect(hosts).not.toHaveAttribute("aria-invalid", "true");
  await expect(hostsError).toHaveCount(0);

  // A private range the API refuses: beside the private field.
  await privates.fill("10.1.0.0/16\n300.1.2.3");
  await card.getByRole("button", { name: "Save" }).click();
  await expect(privates).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator(`#${await privates.getAttribute("aria-describedby")}`)).toHaveText("“300.1.2.3” must be an IPv4 or IPv6 address, optionally /prefix");
  await expect(hosts).not.toHaveAttribute("aria-invalid", "true");
  expect((await readSettings(request)).allowHosts).toEqual(["registry.npmjs.org", "*.pythonhosted.org", "ghe.example.com:8443"]);
});

test("the new-task form names the person's default policy and a task started with another shows it", async ({ page }) => {
  expect((await page.request.put(url("/api/settings/network"), { data: { defaultPolicy: "full", allowHosts: ["registry.npmjs.org"], allowPrivate: [] } })).ok()).toBe(true);
  await page.goto(url("/"));
  const network = page.getByLabel("Network", { exact: true });
  await expect(network.locator("option").first()).toHaveText("Default (full)");
  await expect(page.getByTestId("egress-hint")).toContainText("Full, your default");

  await page.getByLabel("Repository").fill(makeRepo());
  await page.getByLabel("Task", { exact: true }).fill("Write the network notes");
  await network.selectOption("none");
  await expect(page.getByTestId("egress-hint")).toHaveText("Nothing goes out.");
  const submitted = page.waitForRequest((r) => r.method() === "POST" && new URL(r.url()).pathname === "/api/tasks");
  await page.getByRole("button", { name: "Start task" }).click();
  expect((await submitted).postDataJSON()).toMatchObject({ egress: "none" });

  await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("network-policy")).toHaveText("none");
  await expect(page.getByTestId("network-allow-hosts")).toHaveCount(0);
  // A local repository and the script agent need no network: the task ends, nothing refused.
  await expect(page.getByTestId("task-status")).toHaveAttribute("data-status", "completed", { timeout: 90_000 });
  await expect(page.getByTestId("network-no-refusals")).toBeVisible();
});

test("an allowed host answers a workspace and a refused one appears on its task page, live (needs root)", async ({ page }) => {
  test.skip(process.getuid?.() !== 0, "needs root: workspaces get their own users and network namespaces only from a root node");
  // A host the person allows, on this machine's own address (a workspace reaches it only through its proxy).
  const seen: string[] = [];
  const allowed = http.createServer((request, response) => {
    seen.push(request.url ?? "");
    response.end("ok");
  });
  await new Promise<void>((resolve) => allowed.listen(0, hostAddress(), resolve));
  const allowedHost = `${hostAddress()}:${(allowed.address() as AddressInfo).port}`;
  try {
    expect((await page.request.put(url("/api/settings/network"), { data: { defaultPolicy: "allow-list", allowHosts: [allowedHost], allowPrivate: [hostAddress()] } })).ok()).toBe(true);
    const curl = (target: string) => `curl -s -o /dev/null -m 5 '${target}' || true`;
    const repo = makeRepo({ ".agent/setup.sh": [curl(`http://${allowedHost}/from-the-workspace`), curl("https://registry.blocked.example/pkg"), curl("https://registry.blocked.example/pkg"), curl("https://registry.blocked.example/pkg")].join("\n") + "\n" });
    await page.goto(url("/"));
    await page.getByLabel("Repository").fill(repo);
    await page.getByLabel("Task", { exact: true }).fill("Install the dependencies");
    await page.getByRole("button", { name: "Start task" }).click();
    await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);
    await expect(page.getByTestId("network-policy")).toHaveText("allow-list");
    // No reload: the refusals arrive through the task's live stream.
    await expect(page.getByTestId("network-refusal")).toHaveCount(1, { timeout: 90_000 });
    await expect(page.getByTestId("network-refusal")).toContainText("blocked: registry.blocked.example:443, 3 times");
    await expect(page.getByTestId("task-status")).toHaveAttribute("data-status", "completed", { timeout: 90_000 });
    expect(seen).toEqual(["/from-the-workspace"]);
    await page.screenshot({ path: "test-results/e2e/task-network-refusals.png", fullPage: true });
  } finally {
    allowed.close();
  }
});
