/**
 * Hides secret values in text that leaves the node: an agent that prints its key does not publish it.
 * A session's model keys must stay hidden after a daemon restart, yet the daemon keeps no key at
 * rest: it keeps what finds them (HashedSecrets: per value its length, a rolling fingerprint and a
 * salted SHA-256), in an owner-only record of its state. Text is scanned window by window with the
 * fingerprint; a window whose fingerprint matches is confirmed by its digest.
 */
import { createHash, randomBytes, randomInt } from "node:crypto";
import { z } from "zod";

export type Redact = (text: string) => string;

export const REDACTED = "[redacted]";

/** Very short values would redact ordinary words; keys and tokens are far longer. */
const MIN_LENGTH = 8;

const usable = (secrets: readonly (string | undefined)[]) => [...new Set(secrets.filter((s): s is string => typeof s === "string" && s.length >= MIN_LENGTH))];

/** Replaces every occurrence of each secret (longest first, so one that contains another goes whole). */
export function redactor(secrets: readonly (string | undefined)[]): Redact {
  const values = usable(secrets).sort((a, b) => b.length - a.length);
  if (!values.length) return (text) => text;
  return (text) => values.reduce((out, value) => out.split(value).join(REDACTED), text);
}

/** One redactor after another. */
export const both =
  (first: Redact, second: Redact): Redact =>
  (text) =>
    second(first(text));

export const HashedSecrets = z.object({
  salt: z.string(),
  /** The fingerprint's base, random per record. */
  base: z.number().int().min(2).max(2 ** 21),
  secrets: z.array(z.object({ length: z.number().int().min(MIN_LENGTH), fingerprint: z.number().int().nonnegative(), digest: z.string() })),
});
export type HashedSecrets = z.infer<typeof HashedSecrets>;

/** The fingerprint is a polynomial in the base modulo this prime; every product stays below 2^53. */
const PRIME = 2_147_483_647;

function fingerprintOf(text: string, base: number): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (hash * base + text.charCodeAt(i)) % PRIME;
  return hash;
}

const digestOf = (salt: string, value: string) => createHash("sha256").update(salt).update(value).digest("base64url");

/** `values` added to `prior` (its salt and base kept, so both find theirs); no value itself is kept. */
export function hashSecrets(values: readonly (string | undefined)[], prior?: HashedSecrets): HashedSecrets {
  const salt = prior?.salt ?? randomBytes(16).toString("base64url");
  const base = prior?.base ?? 256 + randomInt(2 ** 20);
  const secrets = [...(prior?.secrets ?? [])];
  for (const value of usable(values)) {
    const digest = digestOf(salt, value);
    if (!secrets.some((s) => s.digest === digest)) secrets.push({ length: value.length, fingerprint: fingerprintOf(value, base), digest });
  }
  return { salt, base, secrets };
}

/** Replaces every occurrence of each hashed secret; overlapping occurrences go as one. */
export function hashedRedactor(hashed: HashedSecrets | undefined): Redact {
  if (!hashed?.secrets.length) return (text) => text;
  const { salt, base } = hashed;
  // Per length: the fingerprints sought, each with its digests, and base^(length-1) to roll the window.
  const lengths = new Map<number, { power: number; fingerprints: Map<number, Set<string>> }>();
  for (const { length, fingerprint, digest } of hashed.secrets) {
    let entry = lengths.get(length);
    if (!entry) {
      let power = 1;
      for (let i = 1; i < length; i++) power = (power * base) % PRIME;
      entry = { power, fingerprints: new Map() };
      lengths.set(length, entry);
    }
    const digests = entry.fingerprints.get(fingerprint) ?? new Set<string>();
    digests.add(digest);
    entry.fingerprints.set(fingerprint, digests);
  }
  return (text) => {
    const spans: [number, number][] = [];
    for (const [length, { power, fingerprints }] of lengths) {
      if (text.length < length) continue;
      let hash = fingerprintOf(text.slice(0, length), base);
      for (let start = 0; ; start++) {
        if (fingerprints.get(hash)?.has(digestOf(salt, text.slice(start, start + length)))) spans.push([start, start + length]);
        if (start + length >= text.length) break;
        hash = (hash - ((text.charCodeAt(start) * power) % PRIME) + PRIME) % PRIME;
        hash = (hash * base + text.charCodeAt(start + length)) % PRIME;
      }
    }
    if (!spans.length) return text;
    spans.sort((a, b) => a[0] - b[0]);
    let out = "";
    let at = 0;
    for (let i = 0; i < spans.length; i++) {
      const start = spans[i]![0];
      let end = spans[i]![1];
      while (i + 1 < spans.length && spans[i + 1]![0] < end) end = Math.max(end, spans[++i]![1]);
      out += text.slice(at, start) + REDACTED;
      at = end;
    }
    return out + text.slice(at);
  };
}
