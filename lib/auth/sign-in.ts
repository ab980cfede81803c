/**
 * Browser sign-in for team mode: better-auth, with GitHub through its generic OAuth provider so the
 * endpoints come from configuration (GitHub Enterprise, or a local double of GitHub in tests).
 * Sessions, linked accounts and OAuth state live in our database (`auth_*` tables); GitHub's access
 * tokens are stored encrypted. The first person to join is made the admin.
 */
import { and, eq, gt } from "drizzle-orm";
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { nextCookies } from "better-auth/next-js";
import { genericOAuth } from "better-auth/plugins";
import type { Db } from "@/db/client";
import { authAccounts, authSessions, authVerifications, users } from "@/db/schema";
import type { Config } from "../config";
import { promoteFirstAdmin } from "../users";
import { publishCredentialsChanged } from "../live/publish";

type GithubProfile = { id: number; login: string; name: string | null; email: string | null; avatar_url?: string };
type GithubEmail = { email: string; primary: boolean; verified: boolean };

/** Reads the signed-in GitHub user as GitHub's REST API describes them (/user, /user/emails). */
async function githubUser(apiUrl: string, accessToken: string) {
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
  return {
    id: String(profile.id),
    name: profile.name || profile.login,
    email: email ?? null,
    image: profile.avatar_url,
    emailVerified: !!primary,
  };
}

export type SignIn = ReturnType<typeof createSignIn>;

const instances = new WeakMap<Db, SignIn>();

/** The process's sign-in, made on first use (team mode only). */
export function signInFor(db: Db, config: Config): SignIn {
  let instance = instances.get(db);
  if (!instance) {
    instance = createSignIn(db, config);
    instances.set(db, instance);
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
  const api = config.GITHUB_API_URL.replace(/\/$/, "");
  return betterAuth({
    appName: "Agent control plane",
    baseURL: config.APP_URL,
    basePath: "/api/auth",
    secret: config.AUTH_SECRET,
    telemetry: { enabled: false },
    trustedOrigins: [new URL(config.APP_URL).origin],
    database: drizzleAdapter(db, {
      provider: "pg",
      schema: { user: users, session: authSessions, account: authAccounts, verification: authVerifications },
    }),
    user: { additionalFields: { role: { type: "string", defaultValue: "member", input: false } } },
    session: { expiresIn: Math.round(config.SESSION_TTL / 1000), updateAge: Math.round(Math.min(config.SESSION_TTL / 2, 86_400_000) / 1000) },
    account: { encryptOAuthTokens: true },
    databaseHooks: {
      // A signed-out session loses its live streams at once.
      session: { delete: { after: async () => publishCredentialsChanged(db) } },
      user: {
        create: {
          after: async () => {
            await promoteFirstAdmin(db);
          },
        },
      },
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
            scopes: ["read:user", "user:email"],
            getUserInfo: (tokens) => githubUser(api, tokens.accessToken ?? ""),
          },
        ],
      }),
      nextCookies(),
    ],
  });
}
