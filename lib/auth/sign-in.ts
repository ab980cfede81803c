/**
 * Browser sign-in for team mode: better-auth, with GitHub through its generic OAuth provider so the
 * endpoints come from configuration (GitHub Enterprise, or a local double of GitHub in tests).
 * Sessions, linked accounts and OAuth state live in our database (`auth_*` tables); GitHub's access
 * tokens are stored encrypted. Closed by default: GitHub's answer about the person (their verified
 * emails, and with their token their organisations and teams) decides whether they may come in
 * (./admission.ts); a refused sign-in creates no user and no session, and comes back to the sign-in
 * page with the reason and how to let people in. Signing in first makes nobody an admin.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { and, eq, gt } from "drizzle-orm";
import { betterAuth } from "better-auth";
import { APIError } from "better-auth/api";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { nextCookies } from "better-auth/next-js";
import { genericOAuth } from "better-auth/plugins";
import type { Db } from "@/db/client";
import { authAccounts, authSessions, authVerifications, users } from "@/db/schema";
import type { Config } from "../config";
import { publishCredentialsChanged } from "../live/publish";
import { allowedGroups, decideAdmission, type Admission } from "./admission";

type GithubProfile = { id: number; login: string; name: string | null; email: string | null; avatar_url?: string };
type GithubEmail = { email: string; primary: boolean; verified: boolean };

/** What one sign-in request decided about its person, from GitHub's answer to the database hooks that follow it. */
const admissions = new AsyncLocalStorage<{ admission?: Admission }>();

/** Reads the signed-in GitHub user as GitHub's REST API describes them (/user, /user/emails), and decides whether they may come in. */
async function githubUser(db: Db, config: Config, accessToken: string) {
  const apiUrl = config.GITHUB_API_URL.replace(/\/$/, "");
  const get = async <T>(path: string): Promise<T | undefined> => {
    const response = await fetch(`${apiUrl}${path}`, {
      headers: { authorization: `Bearer ${accessToken}`, accept: "application/vnd.github+json", "user-agent": "agent-control-plane" },
      signal: AbortSignal.timeout(10_000),
    });
    return response.ok ? ((await response.json()) as T) : undefined;
  };
  const profile = await get<GithubProfile>("/user");
  if (!profile) return null;
  const emails = (await get<GithubEmail[]>("/user/emails")) ?? [];
  const primary = emails.find((e) => e.primary && e.verified) ?? emails.find((e) => e.verified);
  const email = primary?.email ?? profile.email;
  const decided = await decideAdmission(db, config, {
    githubId: String(profile.id),
    login: profile.login,
    verifiedEmails: emails.filter((e) => e.verified).map((e) => e.email),
    accessToken,
  });
  const store = admissions.getStore();
  if (store) store.admission = decided;
  return {
    id: String(profile.id),
    name: profile.name || profile.login,
    email: email ?? null,
    image: profile.avatar_url,
    emailVerified: !!primary,
  };
}

/** Stops a sign-in GitHub's answer did not admit: no user and no session is made, and the sign-in page says why. */
async function refuseUnlessAdmitted(): Promise<void> {
  const admission = admissions.getStore()?.admission;
  if (admission && !admission.admitted) throw new APIError("FORBIDDEN", { code: admission.refusal, message: admission.message });
}

export type SignIn = ReturnType<typeof createSignIn>;

/** Answers one request to better-auth's endpoints, with the sign-in's admission decision kept for its hooks. */
export function handleSignIn(db: Db, config: Config, request: Request): Promise<Response> {
  return admissions.run({}, () => signInFor(db, config).handler(request));
}

const instances = new WeakMap<Db, WeakMap<Config, SignIn>>();

/** The process's sign-in for its database and configuration, made on first use (team mode only). */
export function signInFor(db: Db, config: Config): SignIn {
  let byConfig = instances.get(db);
  if (!byConfig) instances.set(db, (byConfig = new WeakMap()));
  let instance = byConfig.get(config);
  if (!instance) {
    instance = createSignIn(db, config);
    byConfig.set(config, instance);
  }
  return instance;
}

/** The person a browser's session cookie stands for, if it is a live session. */
export async function sessionUser(db: Db, config: Config, headers: Headers): Promise<{ userId: string; sessionId: string } | undefined> {
  const found = await signInFor(db, config).api.getSession({ headers });
  return found ? { userId: found.user.id, sessionId: found.session.id } : undefined;
}

/** Whether a session is still there and unexpired (a live stream asks while it runs). */
export async function sessionActive(db: Db, sessionId: string): Promise<boolean> {
  const [row] = await db.select({ id: authSessions.id }).from(authSessions).where(and(eq(authSessions.id, sessionId), gt(authSessions.expiresAt, new Date())));
  return !!row;
}

export function createSignIn(db: Db, config: Config) {
  const github = new URL(config.GITHUB_URL).origin;
  const groups = allowedGroups(config);
  // Membership of organisations and teams is read with the person's token only when it decides anything.
  const scopes = ["read:user", "user:email", ...(groups.orgs.size || groups.teams.size ? ["read:org"] : [])];
  return betterAuth({
    appName: "Agent control plane",
    baseURL: config.APP_URL,
    basePath: "/api/auth",
    secret: config.AUTH_SECRET,
    telemetry: { enabled: false },
    rateLimit: { customRules: { "/sign-in/*": { window: 10, max: config.SIGN_IN_RATE_LIMIT } } },
    trustedOrigins: [new URL(config.APP_URL).origin],
    database: drizzleAdapter(db, {
      provider: "pg",
      schema: { user: users, session: authSessions, account: authAccounts, verification: authVerifications },
    }),
    user: { additionalFields: { role: { type: "string", defaultValue: "member", input: false } } },
    session: { expiresIn: Math.round(config.SESSION_TTL / 1000), updateAge: Math.round(Math.min(config.SESSION_TTL / 2, 86_400_000) / 1000) },
    account: {
      encryptOAuthTokens: true,
      // A person the admin command made (by an email the operator typed) signs in with the GitHub
      // account whose verified address it is: linked by GitHub's verification, not ours.
      accountLinking: { requireLocalEmailVerified: false },
    },
    databaseHooks: {
      session: {
        create: { before: refuseUnlessAdmitted },
        // A signed-out session loses its live streams at once.
        delete: { after: async () => publishCredentialsChanged(db) },
      },
      user: { create: { before: refuseUnlessAdmitted } },
    },
    plugins: [
      genericOAuth({
        config: [
          {
            providerId: "github",
            name: "GitHub",
            clientId: config.GITHUB_CLIENT_ID ?? "",
            clientSecret: config.GITHUB_CLIENT_SECRET,
            authorizationUrl: `${github}/login/oauth/authorize`,
            tokenUrl: `${github}/login/oauth/access_token`,
            scopes,
            getUserInfo: (tokens) => githubUser(db, config, tokens.accessToken ?? ""),
          },
        ],
      }),
      nextCookies(),
    ],
  });
}
