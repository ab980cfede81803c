/**
 * Team mode's sign-in is closed by default: GitHub's OAuth flow (a local double of GitHub that
 * follows its published contract, memberships included) run through better-auth's own endpoints on
 * embedded PostgreSQL. Allow-lists, invitations and admins let people in; anyone else comes back to
 * the sign-in page with the reason and no user or session is made; nobody becomes admin by signing in.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { authSessions, invitations, users } from "@/db/schema";
import { parseConfig, type Config } from "@/lib/config";
import { openTestDatabase } from "@/tests/harness/test-database";
import { startGithubDouble, type GithubDouble, type GithubUser } from "@/tests/harness/github-double";
import { findOrCreateUser } from "../users";
import { invite } from "./invitations";
import { handleSignIn } from "./sign-in";

const APP = "http://127.0.0.1:3999";
let database: Awaited<ReturnType<typeof openTestDatabase>>;
let github: GithubDouble;
let seq = 0;

beforeAll(async () => {
  database = await openTestDatabase();
  github = await startGithubDouble();
}, 60_000);
afterAll(async () => {
  await github?.close();
  await database?.close();
});
beforeEach(async () => {
  // Each test starts with nobody let in.
  await database.db.delete(authSessions);
  await database.db.delete(invitations);
  await database.db.delete(users);
});

const teamConfig = (env: Record<string, string> = {}): Config =>
  parseConfig({
    AUTH_MODE: "team",
    AUTH_SECRET: "admission-secret-".padEnd(40, "x"),
    GITHUB_CLIENT_ID: github.clientId,
    GITHUB_CLIENT_SECRET: github.clientSecret,
    GITHUB_URL: github.url,
    GITHUB_API_URL: github.url,
    SECRETS_KEYS: `k1:${Buffer.alloc(32, 3).toString("base64")}`,
    APP_URL: APP,
    DATA_DIR: database.dir,
    ...env,
  });

function person(login: string, extra: Partial<GithubUser> = {}): GithubUser {
  const email = `${login}@example.test`;
  return { id: 5000 + ++seq, login, name: login, email, emails: [{ email, primary: true, verified: true }], ...extra };
}

/** The browser's way through: start at our sign-in endpoint, authorize on GitHub, come back to our callback. */
async function signIn(config: Config, user: GithubUser) {
  github.signInAs(user);
  const start = await handleSignIn(
    database.db,
    config,
    new Request(`${APP}/api/auth/sign-in/social`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: APP },
      body: JSON.stringify({ provider: "github", callbackURL: "/", errorCallbackURL: "/sign-in?error=1" }),
    }),
  );
  expect(start.status).toBe(200);
  const { url } = (await start.json()) as { url: string };
  const cookie = start.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const approve = new URL("/login/oauth/authorize/approve", github.url);
  for (const [key, value] of new URL(url).searchParams) approve.searchParams.set(key, value);
  const granted = await fetch(approve, { redirect: "manual" });
  const back = await handleSignIn(database.db, config, new Request(granted.headers.get("location")!, { headers: { cookie } }));
  expect(back.status).toBe(302);
  const location = new URL(back.headers.get("location")!, APP);
  const [row] = await database.db.select().from(users).where(eq(users.email, user.emails[0]!.email));
  return { location, signedIn: back.headers.getSetCookie().some((c) => c.includes("session_token=") && !c.includes("Max-Age=0")), user: row };
}

const refusedWith = (result: Awaited<ReturnType<typeof signIn>>, code: string) => {
  expect(result.location.pathname).toBe("/sign-in");
  expect(result.location.searchParams.getAll("error")).toContain(code);
  expect(result.signedIn).toBe(false);
  expect(result.user).toBeUndefined();
  return result.location.searchParams.get("error_description") ?? "";
};

describe("team sign-in with GitHub", () => {
  it("with no allow-list, invitation or admin, refuses everyone, saying how to let people in; the first to try is not made admin", async () => {
    const description = refusedWith(await signIn(teamConfig(), person("first")), "sign_in_closed");
    expect(description).toMatch(/AUTH_ALLOWED_ORGS/);
    expect(description).toMatch(/npm run admin -- invite --email/);
    expect(description).toMatch(/create-user --email <address> --admin/);
    expect(await database.db.select().from(users)).toEqual([]);
    expect(await database.db.select().from(authSessions)).toEqual([]);
  });

  it("lets in the admin the command made, as a member nobody else, and asks GitHub no more than it needs", async () => {
    const config = teamConfig();
    const admin = person("root");
    await findOrCreateUser(database.db, { email: admin.emails[0]!.email, name: "Root", admin: true });
    const stranger = refusedWith(await signIn(config, person("stranger")), "not_admitted");
    expect(stranger).toMatch(/stranger may not sign in here/);
    const root = await signIn(config, admin);
    expect(root.location.pathname).toBe("/");
    expect(root.signedIn).toBe(true);
    expect(root.user?.role).toBe("admin");
    // No organisation or team is named: read:org is not asked for.
    expect(github.scopesAsked().at(-1)).toBe("read:user user:email");
  });

  it("lets in an invited verified email (marking the invitation accepted) as a member; an unverified address does not count", async () => {
    const config = teamConfig();
    await invite(database.db, "Guest@Example.test", null);
    const unverified = person("sly", { emails: [{ email: "sly@example.test", primary: true, verified: true }, { email: "guest@example.test", primary: false, verified: false }] });
    refusedWith(await signIn(config, unverified), "not_admitted");
    const guest = await signIn(config, person("guest"));
    expect(guest.signedIn).toBe(true);
    expect(guest.user?.role).toBe("member");
    const [invitation] = await database.db.select().from(invitations);
    expect(invitation?.acceptedAt).not.toBeNull();
  });

  it("lets in AUTH_ALLOWED_EMAILS", async () => {
    const config = teamConfig({ AUTH_ALLOWED_EMAILS: "OK@example.test" });
    expect((await signIn(config, person("ok"))).signedIn).toBe(true);
    refusedWith(await signIn(config, person("notok")), "not_admitted");
  });

  it("lets in members of AUTH_ALLOWED_ORGS, private memberships too (read with scope read:org, through GitHub's pages), and nobody else", async () => {
    const config = teamConfig({ AUTH_ALLOWED_ORGS: "Acme" });
    const many = Array.from({ length: 150 }, (_, i) => ({ login: `club-${i}` }));
    const member = await signIn(config, person("ann", { orgs: [...many, { login: "acme", public: false }] }));
    expect(member.signedIn).toBe(true);
    expect(member.user?.role).toBe("member");
    expect(github.scopesAsked().at(-1)).toBe("read:user user:email read:org");
    expect(github.seen.filter((r) => r.path === "/user/orgs").length).toBeGreaterThanOrEqual(2);
    refusedWith(await signIn(config, person("bob", { orgs: [{ login: "acme-fans", public: true }] })), "not_admitted");
  });

  it("lets in members of a team named as org/team (in AUTH_ALLOWED_ORGS or AUTH_ALLOWED_TEAMS), not the rest of its organisation", async () => {
    for (const config of [teamConfig({ AUTH_ALLOWED_ORGS: "acme/platform" }), teamConfig({ AUTH_ALLOWED_TEAMS: "acme/platform" })]) {
      const dev = await signIn(config, person("dev", { orgs: [{ login: "acme" }], teams: [{ org: "acme", slug: "platform" }] }));
      expect(dev.signedIn).toBe(true);
      refusedWith(await signIn(config, person("sales", { orgs: [{ login: "acme" }], teams: [{ org: "acme", slug: "sales" }] })), "not_admitted");
      await database.db.delete(authSessions);
      await database.db.delete(users);
    }
  });

  it("refuses again a person let in before once nothing lets them in any more", async () => {
    const config = teamConfig();
    await invite(database.db, "temp@example.test", null);
    const temp = person("temp");
    expect((await signIn(config, temp)).signedIn).toBe(true);
    await database.db.delete(invitations);
    await findOrCreateUser(database.db, { email: "boss@example.test", name: "Boss", admin: true });
    const again = await signIn(config, temp);
    expect(again.location.searchParams.getAll("error")).toContain("not_admitted");
    expect(again.signedIn).toBe(false);
  });
});
