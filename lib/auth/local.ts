/**
 * Local mode's credentials. Loopback is not one: every process on this machine reaches it, agents
 * included. So the one person proves who they are:
 * - scripts with the local token, `Authorization: Bearer <token>`, read from `DATA_DIR/local-token`
 *   (made once, owner-only: another Unix user, a workspace's included, cannot read it);
 * - the browser with a session cookie, which a one-time sign-in link sets. Whoever can read the
 *   token makes links (`npm start` prints one, `npm run admin -- sign-in-url` another): a link is
 *   signed with a key derived from the token, expires after LOCAL_SIGN_IN_TTL and works once (its
 *   nonce is recorded when it is spent). Sessions are rows of the sign-in's session table, kept as
 *   the hash of the cookie's value, and end after SESSION_TTL.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { and, eq, gt, lt } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { authSessions, authVerifications } from "@/db/schema";
import { PRIVATE_FILE_MODE } from "../data-dir";
import { LOCAL_USER } from "../users";
import { newSecretToken, secretTokenHash } from "./secret-tokens";

export const LOCAL_TOKEN_FILE = "local-token";
const LOCAL_TOKEN_PREFIX = "acpl_";
const SESSION_PREFIX = "acps_";
/** What a spent link's nonce is recorded as, in the table better-auth keeps short-lived values in. */
const SPENT_LINK = "local-sign-in";

export const localTokenFile = (dataDir: string) => path.join(path.resolve(dataDir), LOCAL_TOKEN_FILE);

/** The local token, or undefined when none was made yet in `dataDir`. */
export function readLocalToken(dataDir: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(localTokenFile(dataDir), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const token = text.trim();
  if (!token) throw new Error(`${localTokenFile(dataDir)} is empty; delete it and start the control plane again to make a new token`);
  return token;
}

/**
 * The local token, made the first time: written owner-only to a file of its own, then linked into
 * place, so two processes starting together agree on one and nobody reads half of it.
 */
export function ensureLocalToken(dataDir: string): string {
  const existing = readLocalToken(dataDir);
  if (existing) return existing;
  const file = localTokenFile(dataDir);
  const draft = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
  fs.writeFileSync(draft, `${newSecretToken(LOCAL_TOKEN_PREFIX)}\n`, { flag: "wx", mode: PRIVATE_FILE_MODE });
  try {
    fs.linkSync(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    fs.rmSync(draft, { force: true });
  }
  return readLocalToken(dataDir)!;
}

const tokens = new Map<string, string>();

/** The app's view of the token: read (or made) once per process. A new token takes a restart. */
export function localTokenFor(dataDir: string): string {
  const key = path.resolve(dataDir);
  let token = tokens.get(key);
  if (!token) {
    token = ensureLocalToken(key);
    tokens.set(key, token);
  }
  return token;
}

/** Compares secrets in constant time (their hashes have one length). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

const linkKey = (localToken: string) => createHmac("sha256", localToken).update("acp local sign-in link").digest();
const linkMac = (localToken: string, body: string) => createHmac("sha256", linkKey(localToken)).update(body).digest("base64url");

/** A one-time sign-in token: `<nonce>.<expiry in ms>.<signature>`. */
export function newSignInToken(localToken: string, ttlMs: number, now = Date.now()): string {
  const body = `${randomBytes(16).toString("base64url")}.${now + ttlMs}`;
  return `${body}.${linkMac(localToken, body)}`;
}

/** The link a person opens: it signs the browser in and goes on to `next` (this site's own path). */
export function signInUrl(appUrl: string, localToken: string, ttlMs: number, next?: string): string {
  const url = new URL("/sign-in", appUrl);
  url.searchParams.set("token", newSignInToken(localToken, ttlMs));
  if (next) url.searchParams.set("next", next);
  return url.toString();
}

export type SignInRefusal = "invalid" | "expired" | "used";
export type LocalSession = { id: string; secret: string; expiresAt: Date };

/**
 * Spends a one-time sign-in token and opens a session for it, or says why not: not one this
 * control plane made, past its expiry, or spent before (a token's nonce is recorded, with its
 * expiry, in the same statement that checks it, so two tabs racing get one session).
 */
export async function redeemSignInToken(
  executor: Executor,
  input: { localToken: string; token: string; sessionTtlMs: number; userAgent?: string | null },
  now = new Date(),
): Promise<{ session: LocalSession } | { refused: SignInRefusal }> {
  const match = /^([A-Za-z0-9_-]{22})\.(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(input.token);
  if (!match) return { refused: "invalid" };
  const [, nonce, expiry, mac] = match as unknown as [string, string, string, string];
  if (!sameSecret(mac, linkMac(input.localToken, `${nonce}.${expiry}`))) return { refused: "invalid" };
  const expiresAt = new Date(Number(expiry));
  if (expiresAt <= now) return { refused: "expired" };
  // Spent links past their expiry need no record any more: they are refused as expired.
  await executor.delete(authVerifications).where(and(eq(authVerifications.identifier, SPENT_LINK), lt(authVerifications.expiresAt, now)));
  const spent = await executor
    .insert(authVerifications)
    .values({ id: `${SPENT_LINK}:${nonce}`, identifier: SPENT_LINK, value: "spent", expiresAt })
    .onConflictDoNothing()
    .returning({ id: authVerifications.id });
  if (spent.length === 0) return { refused: "used" };
  return { session: await createLocalSession(executor, input.sessionTtlMs, input.userAgent ?? null, now) };
}

/** A session of the local user; only the hash of the cookie's value is kept. */
async function createLocalSession(executor: Executor, ttlMs: number, userAgent: string | null, now: Date): Promise<LocalSession> {
  const secret = newSecretToken(SESSION_PREFIX);
  const session = { id: `lses_${randomBytes(9).toString("base64url")}`, secret, expiresAt: new Date(now.getTime() + ttlMs) };
  await executor.insert(authSessions).values({ id: session.id, userId: LOCAL_USER.id, token: secretTokenHash(secret), expiresAt: session.expiresAt, userAgent });
  return session;
}

/** The live session a cookie's value stands for, if any. */
export async function localSession(executor: Executor, secret: string): Promise<{ sessionId: string } | undefined> {
  if (!secret.startsWith(SESSION_PREFIX)) return undefined;
  const [row] = await executor
    .select({ id: authSessions.id })
    .from(authSessions)
    .where(and(eq(authSessions.token, secretTokenHash(secret)), eq(authSessions.userId, LOCAL_USER.id), gt(authSessions.expiresAt, new Date())));
  return row ? { sessionId: row.id } : undefined;
}

/** Ends the session a cookie's value stands for (signing out); a value that stands for none changes nothing. */
export async function endLocalSession(executor: Executor, secret: string): Promise<void> {
  if (!secret.startsWith(SESSION_PREFIX)) return;
  await executor.delete(authSessions).where(and(eq(authSessions.token, secretTokenHash(secret)), eq(authSessions.userId, LOCAL_USER.id)));
}

/** What a caller without a credential is told. */
export const LOCAL_SIGN_IN_HELP =
  "sign in: open the sign-in link `npm start` printed (a new one: `npm run admin -- sign-in-url`); " +
  "scripts send Authorization: Bearer <the token in DATA_DIR/local-token>";
