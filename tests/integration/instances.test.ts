/**
 * Two app instances behind one load balancer, one engine (self-hosted, signed) and one database,
 * as a deployment on two Node hosts runs them. Tasks are submitted on both; a task submitted on one
 * is live on the other; the engine's calls and the nodes' callbacks reach both through the
 * balancer; both run their supervisor; no node is claimed twice or over capacity; there is one
 * signing key, so a node made by one instance's step answers the other's calls.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signingKeys } from "@/db/schema";
import { freePort, TEST_DIST_DIR } from "@/scripts/system";
import { verifyRun } from "../chaos/verify";
import { startBalancer, type Balancer } from "../harness/balancer";
import { makeRepo } from "../harness/git";
import { untilFinished, watchTask } from "../harness/live-client";
import { startTestSystem, type TestSystem } from "../harness/test-system";

const ROOT = path.resolve(import.meta.dirname, "../..");
const MAX_PER_NODE = 2;
const TASKS = 6;

let balancer: Balancer;
let system: TestSystem;
let second: ChildProcess | undefined;
let secondUrl: string;

/** Resolves once `url` answers 200. */
async function until200(url: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  const [firstPort, secondPort] = [await freePort(), await freePort()];
  secondUrl = `http://127.0.0.1:${secondPort}`;
  balancer = await startBalancer([`http://127.0.0.1:${firstPort}`, secondUrl]);
  system = await startTestSystem(
    {
      // The public address is the balancer's: the engine calls it, and so do the nodes.
      APP_URL: balancer.url,
      INNGEST_SERVE_ORIGIN: balancer.url,
      ENGINE_MODE: "self-hosted",
      NODE_WARM_TIMEOUT: "10m",
      MAX_WORKSPACES_PER_NODE: String(MAX_PER_NODE),
    },
    { appPort: firstPort },
  );
  // The second instance: the same build and settings (database, keys, public address), another host.
  second = spawn(process.execPath, [path.join(ROOT, "node_modules/next/dist/bin/next"), "start", "-p", String(secondPort), "-H", "127.0.0.1"], {
    cwd: ROOT,
    env: { ...process.env, ...system.env, NEXT_DIST_DIR: TEST_DIST_DIR },
    stdio: "ignore",
    detached: true,
  });
  await until200(`${secondUrl}/api/health`, 120_000);
});

afterAll(async () => {
  if (second?.pid) process.kill(-second.pid, "SIGKILL");
  await system?.stop();
  await balancer?.close();
});

/** Either instance, as the system's own client: both read the one token file of their shared data folder. */
const instance = (appUrl: string) => ({ appUrl, authHeaders: system.authHeaders });

async function submitOn(appUrl: string, prompt: string) {
  const response = await fetch(`${appUrl}/api/tasks`, {
    method: "POST",
    headers: { ...system.authHeaders, "content-type": "application/json" },
    body: JSON.stringify({ repository: makeRepo(), prompt }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { taskId: string }).taskId;
}

describe("two app instances", () => {
  it("share the work: submitted on either, live on the other, callbacks to both, no node claimed twice", async () => {
    const instances = [system.appUrl, secondUrl];
    const first = await submitOn(system.appUrl, "Submitted on the first instance");
    // Watched on the second instance from the start: every change, wherever it was made, is live there.
    const watch = await watchTask(instance(secondUrl), first);
    const rest = await Promise.all(Array.from({ length: TASKS - 1 }, (_, i) => submitOn(instances[(i + 1) % 2]!, `Task ${i + 2}`)));
    const taskIds = [first, ...rest];
    try {
      const done = await watch.until((t) => t.status === "completed", 180_000, "the first task to complete, seen on the second instance");
      expect(done.steps.map((s) => s.step)).toContain("running");
      expect(watch.statuses).toContain("in_progress");
    } finally {
      watch.close();
    }
    for (const taskId of taskIds) {
      const { done } = await untilFinished(instance(instances[taskIds.indexOf(taskId) % 2]!), taskId, 180_000);
      expect(done.status, done.error ?? "").toBe("completed");
    }

    const result = await verifyRun(system, taskIds, { maxPerNode: MAX_PER_NODE });
    expect(result.problems).toEqual([]);
    // One key signs every node-management call, whichever instance made it.
    expect(await system.database.db.select({ kid: signingKeys.kid }).from(signingKeys)).toHaveLength(1);
    // The engine's calls and the nodes' callbacks went through the balancer to both instances.
    for (const [what, pattern] of [
      ["the engine's calls", /^\/api\/inngest$/],
      ["the nodes' callbacks", /^\/api\/(nodes|workspaces|sessions|agent-sessions)\//],
    ] as const) {
      const backends = new Set(balancer.served.filter((r) => r.method === "POST" && pattern.test(r.path)).map((r) => r.backend));
      expect([...backends].sort(), what).toEqual([0, 1]);
    }
  });
});
