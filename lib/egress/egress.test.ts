/** A task's egress is fixed at submit from its person's settings, and its node's refusals add up per host, port and reason, once per report. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase } from "@/tests/harness/test-database";
import { nodes, tasks, users, workspaces } from "@/db/schema";
import { ConfigSchema, DEFAULT_REGISTRY_HOSTS } from "../config";
import { NetworkSettings } from "../contracts/api";
import { getTaskDetail } from "../tasks/queries";
import { recordEgressRefusals } from "./refusals";
import { egressForNewTask, networkSettings, saveNetworkSettings, workspaceEgress } from "./settings";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
const config = ConfigSchema.parse({ APP_URL: "https://agents.example.com", INNGEST_BASE_URL: "http://engine.internal:8288" });

beforeAll(async () => {
  database = await openTestDatabase();
  await database.db.insert(users).values([
    { id: "u1", email: "u1@example.test", name: "U1" },
    { id: "u2", email: "u2@example.test", name: "U2" },
  ]);
});
afterAll(async () => database?.close());

describe("a person's network settings", () => {
  it("are the configured defaults (the package registries on the allow-list) until saved, then theirs, de-duplicated", async () => {
    expect(await networkSettings(database.db, config, "u1")).toEqual({ defaultPolicy: "allow-list", allowHosts: DEFAULT_REGISTRY_HOSTS, allowPrivate: [], saved: false });
    const saved = await saveNetworkSettings(database.db, "u1", NetworkSettings.parse({ defaultPolicy: "full", allowHosts: ["Registry.Example", "registry.example", "*.pkg.example:8443"], allowPrivate: ["10.1.0.0/16"] }));
    expect(saved).toEqual({ defaultPolicy: "full", allowHosts: ["registry.example", "*.pkg.example:8443"], allowPrivate: ["10.1.0.0/16"], saved: true });
    expect(await networkSettings(database.db, config, "u1")).toEqual(saved);
    expect((await networkSettings(database.db, config, "u2")).saved).toBe(false);
  });

  it("refuse what is not a host or an address, naming the entry", () => {
    for (const settings of [
      { defaultPolicy: "some", allowHosts: [], allowPrivate: [] },
      { defaultPolicy: "none", allowHosts: ["https://registry.example"], allowPrivate: [] },
      { defaultPolicy: "none", allowHosts: ["registry example"], allowPrivate: [] },
      { defaultPolicy: "none", allowHosts: [], allowPrivate: ["10.0.0.0/33"] },
      { defaultPolicy: "none", allowHosts: [], allowPrivate: ["intranet"] },
    ]) {
      const parsed = NetworkSettings.safeParse(settings);
      expect(parsed.success, JSON.stringify(settings)).toBe(false);
    }
    const config = ConfigSchema.safeParse({ EGRESS_ALLOW_HOSTS: "registry.example http://x" });
    expect(config.error?.issues[0]).toMatchObject({ path: ["EGRESS_ALLOW_HOSTS"], message: expect.stringContaining('"http://x" must be a host name') });
  });
});

describe("a task's egress", () => {
  it("takes the policy asked for, else the person's default; its allow-list starts with the repository's own host", async () => {
    expect(await egressForNewTask(database.db, config, "u1", "https://git.example:8443/o/r.git", undefined)).toEqual({ policy: "full", allowHosts: ["git.example:8443", "registry.example", "*.pkg.example:8443"], allowPrivate: ["10.1.0.0/16"] });
    expect(await egressForNewTask(database.db, config, "u2", "/srv/repo", "none")).toEqual({ policy: "none", allowHosts: DEFAULT_REGISTRY_HOSTS, allowPrivate: [] });
  });

  it("reaches the node with the hosts never reachable: the control plane's and the engine's", () => {
    expect(workspaceEgress({ egress: { policy: "allow-list", allowHosts: ["github.com"], allowPrivate: [] } }, config)).toEqual({ policy: "allow-list", allowHosts: ["github.com"], allowPrivate: [], denyHosts: ["agents.example.com", "engine.internal"] });
    // A task from before egress policies gets the configured defaults.
    expect(workspaceEgress({ egress: null }, config)).toMatchObject({ policy: "allow-list", allowHosts: DEFAULT_REGISTRY_HOSTS });
  });
});

describe("refused connections", () => {
  it("add up per host, port and reason, once per report, and show in the task's view with the node's enforcement", async () => {
    await database.db.insert(nodes).values({ id: "n1", userId: "u1", provider: "local", status: "running", egress: "namespaces" });
    await database.db.insert(tasks).values({ id: "t1", userId: "u1", repository: "/r", prompt: "p", agent: "script", status: "in_progress", branch: "agents/t1", nodeId: "n1", workspaceId: "w1", egress: { policy: "allow-list", allowHosts: ["github.com"], allowPrivate: [] } });
    await database.db.insert(workspaces).values({ id: "w1", taskId: "t1", nodeId: "n1", branch: "agents/t1", status: "running" });
    const report = (messageId: string, count: number, lastAt: string) => ({ messageId, refusals: [{ host: "Blocked.Example", port: 443, reason: "policy" as const, count, lastAt }] });
    expect(await recordEgressRefusals(database.db, "w1", report("m1", 2, "2026-12-06T10:00:00.000Z"))).toEqual({ outcome: "applied" });
    expect(await recordEgressRefusals(database.db, "w1", report("m1", 2, "2026-12-06T10:00:00.000Z"))).toEqual({ outcome: "duplicate" });
    await recordEgressRefusals(database.db, "w1", { messageId: "m2", refusals: [{ host: "blocked.example", port: 443, reason: "policy", count: 1, lastAt: "2026-12-06T10:00:05.000Z" }, { host: "169.254.169.254", port: 80, reason: "local", count: 1, lastAt: "2026-12-06T10:00:01.000Z" }] });
    expect(await recordEgressRefusals(database.db, "w_unknown", report("m3", 1, "2026-12-06T10:00:00.000Z"))).toEqual({ outcome: "ignored" });
    const detail = await getTaskDetail(database.db, "t1");
    expect(detail?.network).toEqual({
      policy: "allow-list",
      allowHosts: ["github.com"],
      allowPrivate: [],
      enforcement: { mode: "namespaces", reason: null },
      refusals: [
        { host: "blocked.example", port: 443, reason: "policy", count: 3, lastAt: "2026-12-06T10:00:05.000Z" },
        { host: "169.254.169.254", port: 80, reason: "local", count: 1, lastAt: "2026-12-06T10:00:01.000Z" },
      ],
    });
  });
});
