/**
 * Who may sign in to a team control plane with GitHub. Closed by default: a person comes in only
 * as an admin, by an admin's invitation of one of their verified email addresses, by an address
 * AUTH_ALLOWED_EMAILS names, or as a member of an organisation or team AUTH_ALLOWED_ORGS /
 * AUTH_ALLOWED_TEAMS names (read from GitHub's REST API with their own OAuth token: GET /user/orgs,
 * GET /user/teams, scope read:org). Signing in first makes nobody an admin: the operator makes the
 * first one with `npm run admin -- create-user --admin`. With no allow-list, no invitation and no
 * admin, every sign-in is refused, saying how to let people in.
 */
import { and, eq, inArray, isNull, ne, or, sql } from "drizzle-orm";
import { queryRows, type Executor } from "@/db/client";
import { authAccounts, invitations, users } from "@/db/schema";
import type { Config } from "../config";
import { LOCAL_USER } from "../users";

type Policy = Pick<Config, "AUTH_ALLOWED_ORGS" | "AUTH_ALLOWED_TEAMS" | "AUTH_ALLOWED_EMAILS" | "GITHUB_API_URL">;

/** The person as GitHub answered for them at sign-in. */
export type GithubIdentity = { githubId: string; login: string; verifiedEmails: string[]; accessToken: string };

export type AdmissionRefusal = "sign_in_closed" | "not_admitted";
export type Admission = { admitted: true; via: "admin" | "invitation" | "email" | "org" | "team" } | { admitted: false; refusal: AdmissionRefusal; message: string };

/** How an operator lets people in: said on the sign-in page whenever someone is refused. */
export const HOW_TO_LET_IN =
  "An admin invites people in Settings → People (or `npm run admin -- invite --email <address>`); the operator can name GitHub organisations, teams or emails in AUTH_ALLOWED_ORGS, AUTH_ALLOWED_TEAMS or AUTH_ALLOWED_EMAILS, and makes the first admin with `npm run admin -- create-user --email <address> --admin`.";

/** The organisations and the teams (`org/slug`, lower case) whose members may sign in. */
export function allowedGroups(policy: Pick<Config, "AUTH_ALLOWED_ORGS" | "AUTH_ALLOWED_TEAMS">) {
  const all = [...policy.AUTH_ALLOWED_ORGS, ...policy.AUTH_ALLOWED_TEAMS].map((entry) => entry.toLowerCase());
  return { orgs: new Set(all.filter((entry) => !entry.includes("/"))), teams: new Set(all.filter((entry) => entry.includes("/"))) };
}

/** Whether anyone at all could come in: an allow-list, an invitation, or an admin. */
export async function signInOpen(db: Executor, policy: Policy): Promise<boolean> {
  if (policy.AUTH_ALLOWED_ORGS.length || policy.AUTH_ALLOWED_TEAMS.length || policy.AUTH_ALLOWED_EMAILS.length) return true;
  const [row] = await queryRows<{ open: boolean }>(
    db,
    sql`select exists (select 1 from invitations) or exists (select 1 from users where role = 'admin' and id <> ${LOCAL_USER.id}) as open`,
  );
  return row?.open === true;
}

/** GitHub's paginated list at `path` (per_page=100, following rel="next"), at most `maxPages` pages; undefined when GitHub refuses. */
async function githubList<T>(apiUrl: string, path: string, token: string, maxPages = 10): Promise<T[] | undefined> {
  const items: T[] = [];
  let next: string | undefined = `${apiUrl.replace(/\/$/, "")}${path}?per_page=100`;
  for (let page = 0; next && page < maxPages; page++) {
    const response: Response = await fetch(next, {
      headers: { authorization: `Bearer ${token}`, accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28", "user-agent": "agent-control-plane" },
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) return undefined;
    items.push(...((await response.json()) as T[]));
    next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("link") ?? "")?.[1];
  }
  return items;
}

/** Whether the person is a member of an allowed organisation or team, as GitHub says to their token. */
async function groupAdmission(policy: Policy, who: GithubIdentity): Promise<"org" | "team" | undefined> {
  const { orgs, teams } = allowedGroups(policy);
  if (orgs.size) {
    const mine = await githubList<{ login: string }>(policy.GITHUB_API_URL, "/user/orgs", who.accessToken);
    if (mine?.some((org) => orgs.has(org.login.toLowerCase()))) return "org";
  }
  if (teams.size) {
    const mine = await githubList<{ slug: string; organization: { login: string } }>(policy.GITHUB_API_URL, "/user/teams", who.accessToken);
    if (mine?.some((team) => teams.has(`${team.organization.login}/${team.slug}`.toLowerCase()))) return "team";
  }
  return undefined;
}

/** Decides whether `who` may sign in; an invitation that lets them in is marked accepted. */
export async function decideAdmission(db: Executor, policy: Policy, who: GithubIdentity): Promise<Admission> {
  const emails = [...new Set(who.verifiedEmails.map((email) => email.toLowerCase()))];
  const byEmail = emails.length ? inArray(users.email, emails) : sql`false`;
  const [admin] = await db
    .select({ id: users.id })
    .from(users)
    .leftJoin(authAccounts, and(eq(authAccounts.userId, users.id), eq(authAccounts.providerId, "github")))
    .where(and(eq(users.role, "admin"), ne(users.id, LOCAL_USER.id), or(eq(authAccounts.accountId, who.githubId), byEmail)))
    .limit(1);
  if (admin) return { admitted: true, via: "admin" };
  if (emails.length) {
    const [invited] = await db.select({ email: invitations.email }).from(invitations).where(inArray(invitations.email, emails)).limit(1);
    if (invited) {
      await db.update(invitations).set({ acceptedAt: sql`now()` }).where(and(eq(invitations.email, invited.email), isNull(invitations.acceptedAt)));
      return { admitted: true, via: "invitation" };
    }
    if (emails.some((email) => policy.AUTH_ALLOWED_EMAILS.includes(email))) return { admitted: true, via: "email" };
  }
  const group = await groupAdmission(policy, who);
  if (group) return { admitted: true, via: group };
  if (!(await signInOpen(db, policy))) {
    return { admitted: false, refusal: "sign_in_closed", message: `Nobody can sign in to this control plane yet: it lets in no one until it is told whom. ${HOW_TO_LET_IN}` };
  }
  return {
    admitted: false,
    refusal: "not_admitted",
    message: `${who.login} may not sign in here: no admin invited a verified email address of theirs, and they are in none of the organisations or teams this control plane allows. ${HOW_TO_LET_IN}`,
  };
}
