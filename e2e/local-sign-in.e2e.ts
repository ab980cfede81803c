/**
 * Local mode in the browser: loopback is no credential, so a browser without a session is sent
 * from any page to the sign-in page, which says how to get in; the one-time link (as `npm run
 * admin -- sign-in-url` prints it, like `npm start`) signs it in with a cookie page scripts cannot
 * read and goes on; opened again, the link is refused, saying so. A page of another origin on this
 * machine cannot use the signed-in browser to change anything. Signing out ends the session.
 */
import { spawnSync } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { localAuthHeaders } from "../scripts/system";
import { makeRepo } from "../tests/harness/git";
import { screenshots } from "./support";
import { WHOLE_SHARED_SYSTEM } from "./tags";

const ROOT = path.resolve(import.meta.dirname, "..");
const appUrl = () => process.env.E2E_APP_URL!;

/** What the person runs for a new link, beside the running system. */
function adminSignInUrl(next: string): string {
  const run = spawnSync(process.execPath, ["--import", "tsx", "scripts/admin.ts", "sign-in-url", "--next", next], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: process.env.E2E_DATA_DIR },
    encoding: "utf8",
  });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.trim();
}

/** The tasks there are, as a script with the local token sees them. */
async function taskCount(): Promise<number> {
  const response = await fetch(`${appUrl()}/api/tasks`, { headers: localAuthHeaders(process.env.E2E_DATA_DIR!) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { tasks: unknown[] }).tasks.length;
}

test.describe("signed out", () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test("a page leads to the sign-in page, which says how to get in; the one-time link signs the browser in, once", async ({ page, browser }) => {
    await page.goto("/nodes");
    await expect(page).toHaveURL(/\/sign-in\?next=%2Fnodes$/);
    await expect(page.getByTestId("local-sign-in")).toContainText("open the sign-in link that npm start printed");
    await expect(page.getByText("npm run admin -- sign-in-url")).toBeVisible();
    // No way to the rest of the app from here, and no data.
    await expect(page.getByRole("navigation")).toHaveCount(0);
    await screenshots(page, "local-sign-in");

    const link = adminSignInUrl("/nodes");
    expect(link).toMatch(new RegExp(`^${appUrl().replace(/\./g, "\\.")}/sign-in\\?token=`));
    await page.goto(link);
    await expect(page).toHaveURL(`${appUrl()}/nodes`);
    await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "live");
    const cookies = (await page.context().cookies()).filter((cookie) => cookie.name.startsWith("acp_session_"));
    expect(cookies).toEqual([expect.objectContaining({ httpOnly: true, sameSite: "Strict", secure: false })]);
    expect(await page.evaluate(() => document.cookie)).toBe("");
    // Still signed in on the next visit.
    await page.goto("/settings");
    await expect(page.getByRole("heading", { name: "Settings" })).toBeVisible();

    // The same link in another browser: refused, saying why and how to get a new one.
    const other = await browser.newContext({ storageState: { cookies: [], origins: [] } });
    const again = await other.newPage();
    await again.goto(link);
    await expect(again).toHaveURL(/\/sign-in\?error=used&next=%2Fnodes$/);
    await expect(again.getByTestId("sign-in-error")).toContainText("This sign-in link was used already");
    await expect(again.getByText("npm run admin -- sign-in-url")).toBeVisible();
    expect(await other.cookies()).toEqual([]);
    await other.close();

    // Signing out ends the session: the cookie is cleared, and its value, replayed, is refused.
    const [session] = (await page.context().cookies()).filter((cookie) => cookie.name.startsWith("acp_session_"));
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/sign-in/);
    expect((await page.context().cookies()).filter((cookie) => cookie.name.startsWith("acp_session_"))).toEqual([]);
    const replayed = await fetch(`${appUrl()}/api/me`, { headers: { cookie: `${session!.name}=${session!.value}` } });
    expect(replayed.status).toBe(401);
    await page.goto("/settings");
    await expect(page).toHaveURL(/\/sign-in\?next=%2Fsettings$/);
  });
});

// Counts every task of the shared system: the project "shared system alone" (playwright.config.ts) runs it once the rest is done.
test("a page of another origin on this machine cannot start a task through the signed-in browser", { tag: WHOLE_SHARED_SYSTEM }, async ({ page }) => {
  const before = await taskCount();
  // Another port on 127.0.0.1 is the same site: the browser sends the session cookie along.
  const elsewhere = http.createServer((_request, response) => response.end("<!doctype html><title>Another site</title>"));
  await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
  try {
    await page.goto(`http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/`);
    /** What the app answered a request that page sent with the browser's cookies (the page itself cannot read it). */
    const sendFromThere = async (method: string, body?: string) => {
      const answered = page.waitForResponse((response) => response.url() === `${appUrl()}/api/${body === undefined ? "me" : "tasks"}` && response.request().method() === method);
      await page.evaluate(
        // A "simple" request (no preflight, its answer opaque to the page): the kind another page can send.
        async ({ target, method, body }) => {
          await fetch(target, { method, mode: "no-cors", credentials: "include", ...(body === undefined ? {} : { headers: { "content-type": "text/plain" }, body }) });
        },
        { target: `${appUrl()}/api/${body === undefined ? "me" : "tasks"}`, method, body },
      );
      return (await answered).status();
    };
    // The session cookie goes along (the app knows the person: 200, not 401)…
    expect(await sendFromThere("GET")).toBe(200);
    // …and still the change is refused (its Origin is not the app's).
    expect(await sendFromThere("POST", JSON.stringify({ repository: makeRepo(), prompt: "Sent by another page" }))).toBe(403);
  } finally {
    elsewhere.close();
  }
  expect(await taskCount()).toBe(before);
});
