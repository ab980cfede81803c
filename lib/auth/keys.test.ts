/** The signing key on embedded PGlite: created on first use, in the same transaction as its advisory lock, then found. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signingKeys } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { signingKeyPair } from "./keys";
import { signNodeManagementToken, verifyNodeManagementToken } from "./tokens";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
beforeAll(async () => {
  database = await openTestDatabase();
}, 60_000);
afterAll(async () => database?.close());

describe("the signing key on PGlite", () => {
  it("is created once, and every later caller (another handle, a transaction) gets the same one", async () => {
    const [first, concurrent] = await Promise.all([signingKeyPair(database.db), database.db.transaction((tx) => signingKeyPair(tx))]);
    expect(concurrent.kid).toBe(first.kid);
    expect(await database.db.transaction((tx) => signingKeyPair(tx))).toMatchObject({ kid: first.kid });
    expect(await database.db.select({ kid: signingKeys.kid }).from(signingKeys)).toEqual([{ kid: first.kid }]);

    const token = await signNodeManagementToken(first, { nodeId: "n_1" }, 60_000);
    expect(await verifyNodeManagementToken(first.publicKey, token, "n_1")).toEqual({ nodeId: "n_1", workspaceId: undefined });
  });
});
