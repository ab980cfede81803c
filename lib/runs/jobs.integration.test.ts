/**
 * Two schedulers running the same periodic job at the same moment (two app instances, or the loop
 * beside the cron) never act twice: each instance opens its own connections to a real PostgreSQL
 * server (through Neon's driver, as the app does), both passes run at once over the same tasks, and
 * each task is re-driven, or cleaned up, exactly once.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eq, inArray } from "drizzle-orm";
import { openDatabase, type Database } from "@/db/client";
import { errors, tasks, users } from "@/db/schema";
import type { EngineApi } from "@/lib/engine/api";
import { openPostgresDatabase } from "@/tests/harness/postgres-database";
import { testRuntime } from "@/tests/harness/runtime";
import { PERIODIC_JOBS } from "./jobs";

const opened: Database[] = [];
let instances: Awaited<ReturnType<typeof testRuntime>>[];

/** An engine that answers and has lost every run (a restarted dev server). */
const restartedEngine: EngineApi = { url: "http://engine.test", reachable: async () => true, runState: async () => "unknown", eventKnown: async () => false, eventRuns: async () => [] };

beforeAll(async () => {
  const first = await openPostgresDatabase();
  const second = await openDatabase({ url: first.url, dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "acp-jobs-race-")), wsProxy: inject("wsProxy") });
  opened.push(first, second);
  const runtimeOn = async (database: Database, keys?: Awaited<ReturnType<typeof testRuntime>>["keys"]) => ({
    ...(await testRuntime({ ...database, dir: fs.mkdtempSync(path.join(os.tmpdir(), "acp-jobs-rt-")) }, {}, keys)),
    engine: restartedEngine,
  });
  const one = await runtimeOn(first);
  // The second instance signs with the same key, as every instance of one control plane does.
  instances = [one, await runtimeOn(second, one.keys)];
  await first.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
});
afterAll(async () => {
  for (const database of opened.reverse()) await database.close();
});

const job = (name: string) => PERIODIC_JOBS.find((j) => j.name === name)!;
const ids = (prefix: string) => Array.from({ length: 20 }, (_, i) => `${prefix}-${i}`);
const submitted = (prefix: string) => instances.flatMap((rt) => rt.sent).filter((e) => e.name === "task/submitted" && (e.data as { taskId: string }).taskId.startsWith(prefix));
const base = (id: string) => ({ id, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script" as const, branch: `agents/${id}` });

describe("the same periodic job run twice at once", () => {
  it("reconcile: each lost run is re-driven once", async () => {
    const lost = ids("lost");
    await instances[0]!.db.insert(tasks).values(lost.map((id) => ({ ...base(id), status: "in_progress" as const, executionStep: "running" as const, runId: `01${id}` })));

    await Promise.all(instances.map((rt) => job("reconcile").run(rt)));

    const rows = await instances[0]!.db.select({ generation: tasks.runGeneration, redrives: tasks.redriveCount }).from(tasks).where(inArray(tasks.id, lost));
    expect(rows.map((r) => [r.generation, r.redrives])).toEqual(lost.map(() => [1, 1]));
    expect(submitted("lost-")).toHaveLength(lost.length);
    expect(await instances[0]!.db.select().from(errors).where(inArray(errors.taskId, lost))).toHaveLength(lost.length);
  });

  it("redrive-stalled-runs: each run past its promise is re-driven once", async () => {
    const silent = ids("silent");
    const promised = new Date(Date.now() - 60 * 60_000);
    await instances[0]!.db.insert(tasks).values(silent.map((id) => ({ ...base(id), status: "delegated" as const, executionStep: "workspace_ready" as const, runNextCheckBy: promised })));

    await Promise.all(instances.map((rt) => job("redrive-stalled-runs").run(rt)));

    const rows = await instances[0]!.db.select({ generation: tasks.runGeneration }).from(tasks).where(inArray(tasks.id, silent));
    expect(rows.map((r) => r.generation)).toEqual(silent.map(() => 1));
    expect(submitted("silent-")).toHaveLength(silent.length);
  });

  it("retry-cleanups: each ended task is cleaned up once", async () => {
    const ended = ids("ended");
    const longAgo = new Date(Date.now() - 60 * 60_000);
    await instances[0]!.db.insert(tasks).values(ended.map((id) => ({ ...base(id), status: "completed" as const, completedAt: longAgo, updatedAt: longAgo })));

    const logs = await Promise.all(instances.map((rt) => job("retry-cleanups").run(rt)));

    const cleaned = logs.flat().flatMap((line) => (line.fields?.cleanups ?? []) as { taskId: string; outcome: string }[]).filter((c) => c.outcome === "cleaned");
    expect(cleaned.map((c) => c.taskId).sort()).toEqual([...ended].sort());
    for (const id of ended) expect((await instances[0]!.db.select({ at: tasks.cleanedUpAt }).from(tasks).where(eq(tasks.id, id)))[0]!.at).not.toBeNull();
  });
});
