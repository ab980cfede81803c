/**
 * Team mode in the browser: sign-in with GitHub (a local double of its OAuth flow), closed to
 * anyone not let in (the admin the command made, an allowed organisation, an invitation), the
 * account menu, personal API tokens, invitations and sign-out. This file starts its own system in
 * team mode; the shared one from global-setup runs in local mode.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, request, test, type Browser, type Page } from "@playwright/test";
import { newKeyRingEntry } from "../lib/envelope";
import { startSystem, TEST_DIST_DIR, type RunningSystem } from "../scripts/system";
import { SHARED_MACHINE_ENV } from "../tests/harness/shared-machine";
import { startGithubDouble, type GithubDouble, type GithubUser } from "../tests/harness/github-double";
import { seedDatabase } from "./database-template";

const person = (id: number, login: string, name: string): GithubUser => {
  const email = `${login}@example.test`;
  return { id, login, name, email, emails: [{ email, primary: true, verified: true }] };
};
const ALICE = person(4101, "alice", "Alice Liddell");
// Let in as a member of an organisation the control plane allows.
const BOB = { ...person(4102, "bob", "Bob Builder"), orgs: [{ login: "wonderland" }] };
const MALLORY = person(4103, "mallory", "Mallory Stranger");
const CAROL = person(4104, "carol", "Carol Invited");

let github: GithubDouble;
let system: RunningSystem;
let dataDir: string;
let logDir: string;

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  test.setTimeout(240_000);
  github = await startGithubDouble();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-e2e-team-"));
  seedDatabase(dataDir);
  logDir = path.join(dataDir, "logs");
  const env = {
    AUTH_MODE: "team",
    AUTH_SECRET: randomBytes(32).toString("base64url"),
    GITHUB_CLIENT_ID: github.clientId,
    GITHUB_CLIENT_SECRET: github.clientSecret,
    GITHUB_URL: github.url,
    GITHUB_API_URL: github.url,
    SECRETS_KEYS: newKeyRingEntry("k1"),
    AUTH_ALLOWED_ORGS: "wonderland",
    // Five people sign in within seconds from this one address.
    SIGN_IN_RATE_LIMIT: "20",
    NODE_WARM_TIMEOUT: "0",
    ...SHARED_MACHINE_ENV,
  };
  // Signing in first makes nobody admin: the operator makes the first one, before the start.
  execFileSync(process.execPath, ["--import", "tsx", "scripts/admin.ts", "create-user", "--email", ALICE.email!, "--name", ALICE.name!, "--admin"], {
    env: { ...process.env, ...env, DATA_DIR: dataDir },
    stdio: "ignore",
  });
  system = await startSystem({ mode: "start", distDir: TEST_DIST_DIR, dataDir, logDir, log: () => undefined, env });
});

test.afterEach(async () => {
  const testInfo = test.info();
  // A failure keeps what the app said: the report carries its log.
  if (testInfo.status === testInfo.expectedStatus || !logDir) return;
  for (const name of ["next.log", "inngest.log"]) {
    const file = path.join(logDir, name);
    if (fs.existsSync(file)) await testInfo.attach(name, { path: file, contentType: "text/plain" });
  }
});

test.afterAll(async () => {
  await system?.stop();
  await github?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const newPage = async (browser: Browser): Promise<Page> => (await browser.newContext({ baseURL: system.appUrl })).newPage();

/** From the sign-in page: GitHub's consent page, Authorize, and back. */
async function signInWithGithub(page: Page, user: GithubUser) {
  github.signInAs(user);
  await page.getByRole("button", { name: "Sign in with GitHub" }).click();
  await page.waitForURL((url) => url.origin === github.url && url.pathname === "/login/oauth/authorize");
  await expect(page.getByText(`Signed in as ${user.login}`)).toBeVisible();
  await page.locator("#authorize").click();
}

/** The API as a script sees it, with a bearer token and no browser cookies. */
async function meWithToken(token: string) {
  const api = await request.newContext();
  try {
    const response = await api.get(`${system.appUrl}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status(), body: (await response.json()) as unknown };
  } finally {
    await api.dispose();
  }
}

test("the admin the command made signs in with GitHub, makes and revokes a token, and signs out", async ({ browser }) => {
  const page = await newPage(browser);

  await page.goto("/");
  await expect(page).toHaveURL(`${system.appUrl}/sign-in?next=%2F`);
  await expect(page.getByRole("heading", { name: "Agent Control Plane" })).toBeVisible();
  await expect(page.getByText("Only people this control plane lets in may sign in")).toBeVisible();

  await signInWithGithub(page, ALICE);
  await page.waitForURL(`${system.appUrl}/`);
  await expect(page.getByRole("heading", { name: "New task" })).toBeVisible();
  await expect(page.getByTestId("account-name")).toHaveText(ALICE.name!);
  await expect(page.getByTestId("admin-badge")).toBeVisible();
  const me = await (await page.request.get("/api/me")).json();
  expect(me).toMatchObject({ mode: "team", via: "session", user: { name: ALICE.name, email: ALICE.email, role: "admin" } });

  await page.getByRole("button", { name: new RegExp(ALICE.name!) }).click();
  await page.getByRole("link", { name: "Settings" }).click();
  await page.waitForURL(`${system.appUrl}/settings`);
  await expect(page.getByRole("heading", { name: "Personal API tokens" })).toBeVisible();
  // The one the admin command printed for her.
  await expect(page.getByTestId("token-list").getByRole("listitem").filter({ hasText: "created by npm run admin" })).toBeVisible();

  // Bad input is named beside the field.
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByText("Name is required")).toBeVisible();

  await page.getByLabel("Name").fill("CI deploys");
  await page.getByRole("button", { name: "Create token" }).click();
  const created = page.getByTestId("new-token");
  await expect(created).toContainText("you will not see it again");
  const secret = (await page.getByTestId("new-token-value").textContent()) ?? "";
  expect(secret).toMatch(/^acp_[\w-]{20,}$/);

  const row = page.getByTestId("token-list").getByRole("listitem").filter({ hasText: "CI deploys" });
  await expect(row).toBeVisible();
  await expect(row).toContainText(`${secret.slice(0, 10)}…`);
  await expect(row).not.toContainText(secret);
  await expect(row).toContainText("Last used never");
  await expect(row.getByTestId("token-state")).toHaveText("Active");

  // The token stands for its person.
  expect(await meWithToken(secret)).toMatchObject({ status: 200, body: { via: "token", user: { name: ALICE.name, role: "admin" } } });

  // Shown once: after Done, and after a reload, the secret is nowhere on the page.
  await created.getByRole("button", { name: "Done" }).click();
  await expect(created).toBeHidden();
  await page.reload();
  await expect(row).toBeVisible();
  await expect(row).toContainText("Last used just now");
  await expect(page.locator("body")).not.toContainText(secret);

  await row.getByRole("button", { name: "Revoke" }).click();
  const confirm = row.getByTestId("token-revoke-confirm");
  await expect(confirm).toContainText("Revoke “CI deploys”?");
  await confirm.getByRole("button", { name: "Revoke token" }).click();
  await expect(row.getByTestId("token-state")).toHaveText("Revoked");
  await expect(confirm).toBeHidden();
  await expect(row.getByRole("button", { name: "Revoke" })).toHaveCount(0);
  expect((await meWithToken(secret)).status).toBe(401);

  await page.getByRole("button", { name: new RegExp(ALICE.name!) }).click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${system.appUrl}/sign-in`);
  await expect(page.getByRole("button", { name: "Sign in with GitHub" })).toBeVisible();
  expect((await page.request.get("/api/me")).status()).toBe(401);
  await page.goto("/");
  await expect(page).toHaveURL(`${system.appUrl}/sign-in?next=%2F`);
  await page.context().close();
});

test("a stranger is refused, told how people are let in, and no account is made for them", async ({ browser }) => {
  const page = await newPage(browser);
  await page.goto("/sign-in");
  await signInWithGithub(page, MALLORY);
  await page.waitForURL((url) => url.pathname === "/sign-in" && url.searchParams.getAll("error").includes("not_admitted"));
  const refusal = page.getByTestId("sign-in-error");
  await expect(refusal).toContainText("Your GitHub account is not let in here.");
  await expect(refusal).toContainText("Ask an admin to invite an email address verified on your GitHub account");
  expect((await page.request.get("/api/me")).status()).toBe(401);
  await page.context().close();
});

test("the admin invites a person in Settings → People, and they can sign in", async ({ browser }) => {
  const admin = await newPage(browser);
  await admin.goto("/sign-in");
  await signInWithGithub(admin, ALICE);
  await admin.waitForURL(`${system.appUrl}/`);
  await admin.goto("/settings");
  await expect(admin.getByRole("heading", { name: "People" })).toBeVisible();
  await admin.getByLabel("Email").fill("not an email");
  await admin.getByRole("button", { name: "Invite" }).click();
  await expect(admin.getByText("Email must be an email address")).toBeVisible();
  await admin.getByLabel("Email").fill(CAROL.email!);
  await admin.getByRole("button", { name: "Invite" }).click();
  const invited = admin.getByTestId("invitation-list").getByRole("listitem").filter({ hasText: CAROL.email! });
  await expect(invited).toContainText("not signed in yet");

  const guest = await newPage(browser);
  await guest.goto("/sign-in");
  await signInWithGithub(guest, CAROL);
  await guest.waitForURL(`${system.appUrl}/`);
  await expect(guest.getByTestId("account-name")).toHaveText(CAROL.name!);
  // A member sees no People section, and the invitations API refuses them.
  await guest.goto("/settings");
  await expect(guest.getByRole("heading", { name: "Personal API tokens" })).toBeVisible();
  await expect(guest.getByRole("heading", { name: "People" })).toHaveCount(0);
  expect((await guest.request.get("/api/invitations")).status()).toBe(403);

  await admin.reload();
  await expect(invited).toContainText("signed in");
  await admin.context().close();
  await guest.context().close();
});

test("a second person is a member and sees only their own tokens", async ({ browser }) => {
  const page = await newPage(browser);

  // A failed sign-in comes back with ?error=, and says so.
  await page.goto("/sign-in?error=1&error=access_denied");
  await expect(page.getByTestId("sign-in-error")).toContainText("GitHub sign-in was cancelled.");

  // A page asked for before signing in is where sign-in returns to.
  await page.goto("/settings");
  await expect(page).toHaveURL(`${system.appUrl}/sign-in?next=%2Fsettings`);
  await signInWithGithub(page, BOB);
  await page.waitForURL(`${system.appUrl}/settings`);
  await expect(page.getByTestId("account-name")).toHaveText(BOB.name!);
  await expect(page.getByTestId("admin-badge")).toHaveCount(0);
  expect(await (await page.request.get("/api/me")).json()).toMatchObject({ user: { name: BOB.name, role: "member" } });

  await expect(page.getByText("No tokens yet")).toBeVisible();
  await expect(page.getByTestId("token-list")).not.toContainText("CI deploys");
  expect(await (await page.request.get("/api/tokens")).json()).toEqual({ tokens: [] });

  // Signed in, the sign-in page offers the way on instead of a second sign-in.
  await page.goto("/sign-in?next=%2Fnodes");
  await expect(page.getByText(`You are signed in as ${BOB.name}.`)).toBeVisible();
  await page.getByRole("link", { name: "Continue" }).click();
  await page.waitForURL(`${system.appUrl}/nodes`);
  await page.context().close();
});
