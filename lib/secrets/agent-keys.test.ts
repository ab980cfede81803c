/** The GitHub token leaves the control plane only with a repository on the configured forge, over https (the Tried line: `https://evil.example/x.git` received it). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { newKeyRingEntry, parseKeyRing } from "../envelope";
import { putSecret } from "./store";
import { sessionSecrets, workspaceSecrets } from "./agent-keys";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
const ring = parseKeyRing(newKeyRingEntry("k1"));

beforeAll(async () => {
  database = await openTestDatabase();
  await database.db.insert(users).values({ id: "u1", email: "a@example.test", name: "A" });
  await putSecret(database.db, ring, "u1", "GITHUB_TOKEN", "ghp_person");
  await putSecret(database.db, ring, "u1", "ANTHROPIC_API_KEY", "sk-ant-person");
}, 60_000);
afterAll(async () => database?.close());

describe("the GitHub token", () => {
  const source = () => ({ executor: database.db, ring, config: { AUTH_MODE: "local" as const, GITHUB_URL: "https://github.com" } });

  it("goes with an https repository on the forge, to the workspace and to each session", async () => {
    expect(await workspaceSecrets(source(), "u1", "https://github.com/o/r.git")).toEqual({ GITHUB_TOKEN: "ghp_person" });
    expect(await sessionSecrets(source(), "u1", "claude-code", "https://github.com/o/r")).toEqual({ ANTHROPIC_API_KEY: "sk-ant-person", GITHUB_TOKEN: "ghp_person" });
  });

  it("stays on the control plane for any other repository: another host, a look-alike, a local path, ssh, http", async () => {
    for (const repository of ["https://evil.example/x.git", "https://github.com.evil.example/o/r.git", "https://user@github.com/o/r.git", "/srv/repo", "git@github.com:o/r.git", "http://github.com/o/r.git"]) {
      expect(await workspaceSecrets(source(), "u1", repository), repository).toEqual({});
      expect(await sessionSecrets(source(), "u1", "claude-code", repository), repository).toEqual({ ANTHROPIC_API_KEY: "sk-ant-person" });
    }
  });
});
