/**
 * The control plane's ES256 signing key, created on first use and kept in the database so every
 * app instance signs and verifies with the same key.
 */
import { desc, sql } from "drizzle-orm";
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
  await executor.insert(signingKeys).values({ kid, privateJwk, publicJwk });
}

/**
 * Loads the key, or creates it when there is none, in one transaction under an advisory lock: two
 * instances starting together on a fresh database would otherwise both find none and both create
 * one, and nodes started by each would trust a different key. The second waits for the first's
 * commit, then finds its key.
 */
async function loadOrCreate(executor: Executor): Promise<KeyPair> {
  const existing = await load(executor);
  if (existing) return existing;
  return executor.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('signing-key'))`);
    const madeMeanwhile = await load(tx);
    if (madeMeanwhile) return madeMeanwhile;
    await create(tx);
    return (await load(tx))!;
  });
}

const cache = new WeakMap<object, Promise<KeyPair>>();

/** The newest signing key, created if there is none. Cached per database handle. */
export function signingKeyPair(executor: Executor): Promise<KeyPair> {
  let pending = cache.get(executor);
  if (!pending) {
    pending = loadOrCreate(executor);
    pending.catch(() => cache.delete(executor));
    cache.set(executor, pending);
  }
  return pending;
}
