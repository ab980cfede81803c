/**
 * The control plane's ES256 signing key, created on first use and kept in the database so every
 * app instance signs and verifies with the same key.
 */
import { desc } from "drizzle-orm";
import { exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import type { Executor } from "@/db/client";
import { signingKeys } from "@/db/schema";
import { ALG, type SigningKey } from "./tokens";

export type KeyPair = SigningKey & { publicKey: CryptoKey | Awaited<ReturnType<typeof importJWK>>; publicJwk: JWK };

async function load(executor: Executor): Promise<KeyPair | undefined> {
  const [row] = await executor.select().from(signingKeys).orderBy(desc(signingKeys.createdAt)).limit(1);
  if (!row) return undefined;
  const publicJwk = row.publicJwk as JWK;
  return {
    kid: row.kid,
    privateKey: (await importJWK(row.privateJwk as JWK, ALG)) as CryptoKey,
    publicKey: await importJWK(publicJwk, ALG),
    publicJwk,
  };
}

async function create(executor: Executor): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
  const kid = crypto.randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: "sig" };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ALG };
  // Two instances starting together may both create one; the newest wins for signing and both verify.
  await executor.insert(signingKeys).values({ kid, privateJwk, publicJwk }).onConflictDoNothing();
}

const cache = new WeakMap<object, Promise<KeyPair>>();

/** The newest signing key, created if there is none. Cached per database handle. */
export function signingKeyPair(executor: Executor): Promise<KeyPair> {
  let pending = cache.get(executor);
  if (!pending) {
    pending = (async () => (await load(executor)) ?? (await create(executor), (await load(executor))!))();
    pending.catch(() => cache.delete(executor));
    cache.set(executor, pending);
  }
  return pending;
}
