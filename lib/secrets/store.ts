/**
 * People's secrets, stored sealed (envelope.ts). Values leave this module only to be handed to the
 * owner's own agent session; the API lists names and times, never values.
 */
import { and, eq, inArray, ne } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { userSecrets } from "@/db/schema";
import { SECRET_LABELS, type SecretName, type SecretView } from "../contracts/api";
import { open, rewrap, seal, type KeyRing } from "../envelope";

export class SecretNotFoundError extends Error {
  override readonly name = "SecretNotFoundError";
  constructor(name: string) {
    super(`no secret ${name} is stored`);
  }
}

const context = (userId: string, name: string) => `${userId}|${name}`;

/** Stores or replaces a secret. */
export async function putSecret(executor: Executor, ring: KeyRing, userId: string, name: SecretName, value: string): Promise<SecretView> {
  const sealed = seal(ring, value, context(userId, name));
  const [row] = await executor
    .insert(userSecrets)
    .values({ userId, name, ...sealed })
    .onConflictDoUpdate({ target: [userSecrets.userId, userSecrets.name], set: { ...sealed, updatedAt: new Date() } })
    .returning();
  return { name, label: SECRET_LABELS[name], updatedAt: row!.updatedAt.toISOString() };
}

export async function deleteSecret(executor: Executor, userId: string, name: SecretName) {
  const deleted = await executor.delete(userSecrets).where(and(eq(userSecrets.userId, userId), eq(userSecrets.name, name))).returning({ name: userSecrets.name });
  if (!deleted.length) throw new SecretNotFoundError(name);
}

export async function listSecrets(executor: Executor, userId: string): Promise<SecretView[]> {
  const rows = await executor.select({ name: userSecrets.name, updatedAt: userSecrets.updatedAt }).from(userSecrets).where(eq(userSecrets.userId, userId)).orderBy(userSecrets.name);
  return rows.map((r) => ({ name: r.name as SecretName, label: SECRET_LABELS[r.name as SecretName] ?? r.name, updatedAt: r.updatedAt.toISOString() }));
}

/** The values of the owner's secrets among `names` (those stored), for their agent's session only. */
export async function secretValues(executor: Executor, ring: KeyRing, userId: string, names: readonly SecretName[]): Promise<Partial<Record<SecretName, string>>> {
  if (!names.length) return {};
  const rows = await executor.select().from(userSecrets).where(and(eq(userSecrets.userId, userId), inArray(userSecrets.name, [...names])));
  return Object.fromEntries(rows.map((r) => [r.name, open(ring, r, context(userId, r.name))]));
}

/** After a new key was put in front of the ring: re-wraps every data key with it. Answers how many moved. */
export async function rewrapSecrets(executor: Executor, ring: KeyRing): Promise<number> {
  const stale = await executor.select().from(userSecrets).where(ne(userSecrets.keyId, ring.currentId));
  for (const row of stale) {
    const moved = rewrap(ring, row, context(row.userId, row.name));
    await executor
      .update(userSecrets)
      .set({ keyId: moved.keyId, wrappedKey: moved.wrappedKey })
      .where(and(eq(userSecrets.userId, row.userId), eq(userSecrets.name, row.name), eq(userSecrets.keyId, row.keyId)));
  }
  return stale.length;
}
