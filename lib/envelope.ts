/**
 * Envelope encryption for people's secrets: each secret gets its own random data key (AES-256-GCM),
 * and only that data key is encrypted ("wrapped") with a key-encryption key from configuration.
 * A key ring lists the key-encryption keys by id, newest first: new secrets are wrapped with the
 * first, older ones still open with theirs, and `rewrap` moves them to the first (key rotation
 * without losing a secret, and without ever decrypting a value to do it). It sits below its
 * users: the configuration checks SECRETS_KEYS with `parseKeyRing`; lib/secrets/ and
 * lib/auth/keys.ts seal with it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export type KeyRing = { currentId: string; keys: ReadonlyMap<string, Buffer> };

export class KeyRingError extends Error {
  override readonly name = "KeyRingError";
}

/** Parses `id:base64key[,id:base64key…]` (each key 32 bytes); the first is the current one. */
export function parseKeyRing(text: string): KeyRing {
  const keys = new Map<string, Buffer>();
  for (const entry of text.split(",").map((e) => e.trim()).filter(Boolean)) {
    const at = entry.indexOf(":");
    const id = entry.slice(0, at);
    const key = Buffer.from(entry.slice(at + 1), "base64");
    if (at <= 0 || !/^[\w.-]{1,32}$/.test(id)) throw new KeyRingError(`a key ring entry must be id:base64key, not ${JSON.stringify(entry.slice(0, 12))}…`);
    if (key.length !== 32) throw new KeyRingError(`key ${id} must be 32 bytes (base64 of 32 random bytes), not ${key.length}`);
    if (keys.has(id)) throw new KeyRingError(`key ${id} is listed twice`);
    keys.set(id, key);
  }
  const currentId = keys.keys().next().value;
  if (currentId === undefined) throw new KeyRingError("the key ring is empty");
  return { currentId, keys };
}

/** A fresh key ring entry (for the local key file, or for an operator to add in front when rotating). */
export function newKeyRingEntry(id = `k${Date.now().toString(36)}`): string {
  return `${id}:${randomBytes(32).toString("base64")}`;
}

const IV_BYTES = 12;
/** GCM checks only as many tag bytes as it is given: a cut tag would be a guessable one, so its length is fixed. */
const TAG_BYTES = 16;

/** iv | tag | ciphertext, base64. */
function encrypt(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
}

function decrypt(key: Buffer, sealed: string, aad: string): Buffer {
  const raw = Buffer.from(sealed, "base64");
  if (raw.length < IV_BYTES + TAG_BYTES) throw new KeyRingError(`a sealed value must carry a ${TAG_BYTES}-byte authentication tag; this one is cut short`);
  const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
}

export type Sealed = { keyId: string; wrappedKey: string; ciphertext: string };

/** Encrypts `value`; `context` (e.g. owner and name) is bound to it, so a sealed value cannot be moved to another row. */
export function seal(ring: KeyRing, value: string, context: string): Sealed {
  const dataKey = randomBytes(32);
  const kek = ring.keys.get(ring.currentId)!;
  return { keyId: ring.currentId, wrappedKey: encrypt(kek, dataKey, `${ring.currentId}|${context}`), ciphertext: encrypt(dataKey, Buffer.from(value, "utf8"), context) };
}

export function open(ring: KeyRing, sealed: Sealed, context: string): string {
  const kek = ring.keys.get(sealed.keyId);
  if (!kek) throw new KeyRingError(`secret is wrapped with key ${sealed.keyId}, which the key ring no longer has`);
  const dataKey = decrypt(kek, sealed.wrappedKey, `${sealed.keyId}|${context}`);
  return decrypt(dataKey, sealed.ciphertext, context).toString("utf8");
}

/** The same secret wrapped with the current key (the value itself is not touched). */
export function rewrap(ring: KeyRing, sealed: Sealed, context: string): Sealed {
  if (sealed.keyId === ring.currentId) return sealed;
  const old = ring.keys.get(sealed.keyId);
  if (!old) throw new KeyRingError(`secret is wrapped with key ${sealed.keyId}, which the key ring no longer has`);
  const dataKey = decrypt(old, sealed.wrappedKey, `${sealed.keyId}|${context}`);
  return { keyId: ring.currentId, wrappedKey: encrypt(ring.keys.get(ring.currentId)!, dataKey, `${ring.currentId}|${context}`), ciphertext: sealed.ciphertext };
}
