/** The signing key on embedded PGlite: created on first use, in the same transaction as its advisory lock, then found; its private half sealed. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { exportJWK, generateKeyPair } from "jose";
import { signingKeys } from "@/db/schema";
import { newKeyRingEntry, parseKeyRing } from "@/lib/envelope";
import { openTestDatabase } from "@/tests/harness/test-database";
import { rewrapSigningKeys, signingKeyPair } from "./keys";
import { ALG, verifyNodeManagementToken } from "../contracts/tokens";
import { signNodeManagementToken } from "./tokens";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
beforeAll(async () => {
  database = await openTestDatabase();
}, 60_000);
afterAll(async () => database?.close());

const entry = newKeyRingEntry("k1");
const ring = parseKeyRing(entry);

describe("the signing key on PGlite", () => {
  it("is created once, and every later caller (another handle, a transaction) gets the same one", async () => {
    const [first, concurrent] = await Promise.all([signingKeyPair(database.db, ring), database.db.transaction((tx) => signingKeyPair(tx, ring))]);
    expect(concurrent.kid).toBe(first.kid);
    expect(await database.db.transaction((tx) => signingKeyPair(tx, ring))).toMatchObject({ kid: first.kid });
    expect(await database.db.select({ kid: signingKeys.kid }).from(signingKeys)).toEqual([{ kid: first.kid }]);

    const token = await signNodeManagementToken(first, { nodeId: "n_1" }, 60_000);
    expect(await verifyNodeManagementToken(first.publicKey, token, "n_1")).toEqual({ nodeId: "n_1", workspaceId: undefined });
  });

  it("stores its private half sealed with the secrets' key ring: the row holds no private key, another ring cannot open it", async () => {
    const { kid } = await signingKeyPair(database.db, ring);
    const [row] = await database.db.select().from(signingKeys).where(eq(signingKeys.kid, kid));
    const stored = row!.privateJwk as Record<string, unknown>;
    expect(stored).toEqual({ sealed: { keyId: "k1", wrappedKey: expect.any(String), ciphertext: expect.any(String) } });
    expect(JSON.stringify(stored)).not.toMatch(/"d"/);
    await database.db.transaction(async (tx) => {
      await expect(signingKeyPair(tx, parseKeyRing(newKeyRingEntry("k1")))).rejects.toThrow();
    });
  });

  it("seals a key stored in plain (before keys were sealed) the first time it is read, and signs with it as before", async () => {
    await database.db.delete(signingKeys);
    const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
    const kid = "plain-1";
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ALG };
    await database.db.insert(signingKeys).values({ kid, privateJwk, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: ALG, use: "sig" } });

    const opened = await database.db.transaction((tx) => signingKeyPair(tx, ring));
    expect(opened.kid).toBe(kid);
    const [row] = await database.db.select().from(signingKeys).where(eq(signingKeys.kid, kid));
    expect(row!.privateJwk).toEqual({ sealed: expect.objectContaining({ keyId: "k1" }) });
    expect(JSON.stringify(row!.privateJwk)).not.toContain(privateJwk.d!);
    const token = await signNodeManagementToken(opened, { nodeId: "n_2" }, 60_000);
    expect(await verifyNodeManagementToken(publicKey, token, "n_2")).toMatchObject({ nodeId: "n_2" });
    // Read again, the sealed row opens to the same key.
    expect((await database.db.transaction((tx) => signingKeyPair(tx, ring))).kid).toBe(kid);

    // Rotation moves it to the new key with the secrets.
    const rotated = parseKeyRing(`${newKeyRingEntry("k2")},${entry}`);
    expect(await rewrapSigningKeys(database.db, rotated)).toBe(1);
    const newOnly = parseKeyRing([...rotated.keys].filter(([id]) => id === "k2").map(([id, key]) => `${id}:${key.toString("base64")}`).join(","));
    expect((await database.db.transaction((tx) => signingKeyPair(tx, newOnly))).kid).toBe(kid);
  });
});
