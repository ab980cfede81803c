/**
 * The bare engine's own latency, measured beside ours in the same run: a throwaway Inngest app
 * (served from this process) whose function waits for an event and then runs a step. Sending the
 * event → the step starting is the floor our callback → next step latency stands on.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Inngest } from "inngest";
import { serve } from "inngest/node";

export async function measureEngineFloor(engineUrl: string, runs: number): Promise<number[]> {
  const client = new Inngest({ id: "bench-engine-floor", checkpointing: false, isDev: true, baseUrl: engineUrl });
  const stepStarted = new Map<string, (at: number) => void>();
  const probe = client.createFunction({ id: "floor-probe", triggers: [{ event: "bench/floor.start" }], retries: 0 }, async ({ event, step }) => {
    const key = (event.data as { key: string }).key;
    await step.waitForEvent("wait", { event: "bench/floor.go", timeout: "1m", if: `async.data.key == "${key}"` });
    await step.run("after", async () => stepStarted.get(key)?.(Date.now()));
  });
  const server = http.createServer(serve({ client, functions: [probe] }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/inngest`;
  try {
    const sync = await fetch(url, { method: "PUT", headers: { "x-inngest-server-kind": "dev" } });
    if (!sync.ok) throw new Error(`registering the floor probe failed: ${sync.status}`);
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const key = `k${i}-${Date.now()}`;
      const started = new Promise<number>((resolve) => stepStarted.set(key, resolve));
      await client.send({ name: "bench/floor.start", data: { key } });
      // The wait must exist before the event that ends it: give the run time to register it.
      await new Promise((r) => setTimeout(r, 500));
      const sentAt = Date.now();
      await client.send({ name: "bench/floor.go", data: { key } });
      samples.push((await started) - sentAt);
    }
    return samples;
  } finally {
    server.close();
  }
}
