import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { newKeyRingEntry, parseKeyRing } from "../envelope";
import { putSecret } from "./store";
import { checkProviderToken, MissingProviderTokenError } from "./provider-token";

let database: Awaited<ReturnType<typeof openTestDatabase>>;

beforeAll(async () => {
  database = await openTestDatabase();
  await database.db.insert(users).values([
    { id: "u_with", email: "a@example.test", name: "A" },
    { id: "u_without", email: "b@example.test", name: "B" },
  ]);
  await putSecret(database.db, parseKeyRing(newKeyRingEntry("k1")), "u_with", "HETZNER_TOKEN", "hz-token");
}, 60_000);
afterAll(async () => database?.close());

describe("a task submitted while nodes run on Hetzner", () => {
  it("is refused, naming HETZNER_TOKEN and where to add it, when its owner has none; local nodes need none", async () => {
    const hetzner = { NODE_PROVIDER: "hetzner" } as const;
    await expect(checkProviderToken(database.db, hetzner, "u_with")).resolves.toBeUndefined();
    const refused = checkProviderToken(database.db, hetzner, "u_without");
    await expect(refused).rejects.toBeInstanceOf(MissingProviderTokenError);
    await expect(refused).rejects.toThrow(/HETZNER_TOKEN in Settings → Secrets/);
    await expect(checkProviderToken(database.db, { NODE_PROVIDER: "local" }, "u_without")).resolves.toBeUndefined();
  });
});
