/**
 * Personal API tokens, for scripts and CI in team mode: `Authorization: Bearer acp_…`. A token is
 * shown once, when it is made; only its SHA-256 is kept (32 random bytes need no slow hash). A
 * revoked token is refused from the next request on; `last_used_at` is written at most once a minute.
 */
import { randomBytes } from "node:crypto";
import { and, desc, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { apiTokens } from "@/db/schema";
import { publishCredentialsChanged } from "../live/publish";
import { newSecretToken, secretTokenHash } from "./secret-tokens";

export const TOKEN_PREFIX = "acp_";
const LAST_USED_RESOLUTION_MS = 60_000;

export class ApiTokenNotFoundError extends Error {
  override readonly name = "ApiTokenNotFoundError";
  constructor(id: string) {
    super(`no API token ${id}`);
  }
}

export type ApiTokenView = { id: string; name: string; prefix: string; createdAt: string; lastUsedAt: string | null; revokedAt: string | null };

const view = (row: typeof apiTokens.$inferSelect): ApiTokenView => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  createdAt: row.createdAt.toISOString(),
  lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  revokedAt: row.revokedAt?.toISOString() ?? null,
});

/** Makes a token; the answer is the only time its secret is seen. */
export async function createApiToken(executor: Executor, userId: string, name: string): Promise<ApiTokenView & { token: string }> {
  const token = newSecretToken(TOKEN_PREFIX);
  const [row] = await executor
    .insert(apiTokens)
    .values({ id: `tok_${randomBytes(9).toString("base64url")}`, userId, name, tokenHash: secretTokenHash(token), prefix: token.slice(0, TOKEN_PREFIX.length + 6) })
    .returning();
  return { ...view(row!), token };
}

export async function listApiTokens(executor: Executor, userId: string): Promise<ApiTokenView[]> {
  const rows = await executor.select().from(apiTokens).where(eq(apiTokens.userId, userId)).orderBy(desc(apiTokens.createdAt));
  return rows.map(view);
}

/** Revokes one of the user's tokens; another user's token is not found. Revoking twice is a no-op. */
export async function revokeApiToken(executor: Executor, userId: string, id: string): Promise<ApiTokenView> {
  const [row] = await executor
    .update(apiTokens)
    .set({ revokedAt: sql`coalesce(${apiTokens.revokedAt}, now())` })
    .where(and(eq(apiTokens.id, id), eq(apiTokens.userId, userId)))
    .returning();
  if (!row) throw new ApiTokenNotFoundError(id);
  await publishCredentialsChanged(executor);
  return view(row);
}

/** The user a presented token stands for, or undefined when it is unknown or revoked. */
export async function authenticateApiToken(executor: Executor, token: string): Promise<{ userId: string; tokenId: string } | undefined> {
  if (!token.startsWith(TOKEN_PREFIX)) return undefined;
  const [row] = await executor
    .select({ id: apiTokens.id, userId: apiTokens.userId })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, secretTokenHash(token)), isNull(apiTokens.revokedAt)));
  if (!row) return undefined;
  await executor
    .update(apiTokens)
    .set({ lastUsedAt: sql`now()` })
    .where(and(eq(apiTokens.id, row.id), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, new Date(Date.now() - LAST_USED_RESOLUTION_MS)))));
  return { userId: row.userId, tokenId: row.id };
}

/** Whether a token is still good (a live stream asks again while it runs). */
export async function apiTokenActive(executor: Executor, tokenId: string): Promise<boolean> {
  const [row] = await executor.select({ id: apiTokens.id }).from(apiTokens).where(and(eq(apiTokens.id, tokenId), isNull(apiTokens.revokedAt)));
  return !!row;
}
