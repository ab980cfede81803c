/**
 * The control plane's ES256 signing key, created on first use and kept in the database so every
 * app instance signs and verifies with the same key. Its private half is stored sealed with the key
 * ring that seals people's secrets (envelope.ts): whoever reads the database alone cannot sign a
 * callback or node token. A row kept in plain JWK (before this was so) is sealed the first time it is
 * read, so a start migrates it.
 */
import { desc, eq, sql } from "drizzle-orm";
import { exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import type { Executor } from "@/db/client";
import { signingKeys } from "@/db/schema";
import { open, rewrap, seal, type KeyRing, type Sealed } from "../envelope";
import { ALG } from "../contracts/tokens";
import type { SigningKey } from "./tokens";

export type KeyPair = SigningKey & { publicKey: CryptoKey | Awaited<ReturnType<typeof importJWK>>; publicJwk: JWK };

/** What the private_jwk column holds: the sealed JWK, or (a row from before) the JWK itself. */
type StoredPrivate = { sealed: Sealed } | JWK;

const context = (kid: string) => `signing-key|${kid}`;
const isSealed = (stored: StoredPrivate): stored is { sealed: Sealed } => typeof (stored as { sealed?: unknown }).sealed === "object";
const sealJwk = (ring: KeyRing, kid: string, jwk: JWK): { sealed: Sealed } => ({ sealed: seal(ring, JSON.stringify(jwk), context(kid)) });

async function load(executor: Executor, ring: KeyRing): Promise<KeyPair | undefined> {
  const [row] = await executor.select().from(signingKeys).orderBy(desc(signingKeys.createdAt)).limit(1);
  if (!row) return undefined;
  const stored = row.privateJwk as StoredPrivate;
  let privateJwk: JWK;
  if (isSealed(stored)) {
    privateJwk = JSON.parse(open(ring, stored.sealed, context(row.kid))) as JWK;
  } else {
    // A plain row (stored before keys were sealed): sealed now, only if it is still plain.
    privateJwk = stored;
    await executor
      .update(signingKeys)
      .set({ privateJwk: sealJwk(ring, row.kid, stored) })
      .where(sql`${signingKeys.kid} = ${row.kid} and ${signingKeys.privateJwk} -> 'sealed' is null`);
  }
  const publicJwk = row.publicJwk as JWK;
  return {
    kid: row.kid,
    privateKey: (await importJWK(privateJwk, ALG)) as CryptoKey,
    publicKey: await importJWK(publicJwk, ALG),
    publicJwk,
  };
}

async function create(executor: Executor, ring: KeyRing): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
  const kid = crypto.randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: "sig" };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ALG };
  await executor.insert(signingKeys).values({ kid, privateJwk: sealJwk(ring, kid, privateJwk), publicJwk });
}

/**
 * Loads the key, or creates it when there is none, in one transaction under an advisory lock: two
 * instances starting together on a fresh database would otherwise both find none and both create
 * one, and nodes started by each would trust a different key. The second waits for the first's
 * commit, then finds its key.
 */
async function loadOrCreate(executor: Executor, ring: KeyRing): Promise<KeyPair> {
  const existing = await load(executor, ring);
  if (existing) return existing;
  return executor.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('signing-key'))`);
    const madeMeanwhile = await load(tx, ring);
    if (madeMeanwhile) return madeMeanwhile;
    await create(tx, ring);
    return (await load(tx, ring))!;
  });
}

const cache = new WeakMap<object, Promise<KeyPair>>();

/** The newest signing key, created if there is none, its private half opened with `ring`. Cached per database handle. */
export function signingKeyPair(executor: Executor, ring: KeyRing): Promise<KeyPair> {
  let pending = cache.get(executor);
  if (!pending) {
    pending = loadOrCreate(executor, ring);
    pending.catch(() => cache.delete(executor));
    cache.set(executor, pending);
  }
  return pending;
}

/** After a new key was put in front of the ring: re-wraps the signing keys' data keys with it (with the secrets). */
export async function rewrapSigningKeys(executor: Executor, ring: KeyRing): Promise<number> {
  let moved = 0;
  for (const row of await executor.select({ kid: signingKeys.kid, privateJwk: signingKeys.privateJwk }).from(signingKeys)) {
    const stored = row.privateJwk as StoredPrivate;
    const next = isSealed(stored) ? { sealed: rewrap(ring, stored.sealed, context(row.kid)) } : sealJwk(ring, row.kid, stored);
    if (isSealed(stored) && next.sealed.keyId === stored.sealed.keyId) continue;
    await executor.update(signingKeys).set({ privateJwk: next }).where(eq(signingKeys.kid, row.kid));
    moved++;
  }
  return moved;
}
