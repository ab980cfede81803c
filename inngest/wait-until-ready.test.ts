import { describe, expect, it } from "vitest";
import type { Readiness } from "@/lib/pipeline/stages";
import { waitUntilReady, type WaitSteps } from "./wait-until-ready";

/** Records the order of steps; the database's answers and the events are scripted per test. */
function recorder(checks: Readiness[], events: boolean[] = []) {
  const log: string[] = [];
  const steps: WaitSteps = {
    run: async (id, fn) => {
      log.push(id);
      return fn();
    },
    waitForEvent: async (id, opts) => {
      log.push(`${id} (${opts.timeout}, ${opts.if})`);
      return events.shift() ? { name: opts.event } : null;
    },
  };
  const check = async () => checks.shift() ?? "pending";
  return { log, steps, check };
}

const opts = { name: "workspace_ready", event: "workspace/ready", ifExpr: 'async.data.workspaceId == "w1"', totalMs: 90_000, sliceMs: 30_000 };

describe("waitUntilReady", () => {
  it("checks the database before it waits, and does not wait when the callback already arrived", async () => {
    const { log, steps, check } = recorder(["ready"]);
    expect(await waitUntilReady(steps, { ...opts, check })).toBe("ready");
    expect(log).toEqual(["workspace_ready-check-0"]);
  });

  it("waits for the event in slices and confirms readiness in the database after it", async () => {
    const { log, steps, check } = recorder(["pending", "ready"], [true]);
    expect(await waitUntilReady(steps, { ...opts, check })).toBe("ready");
    expect(log).toEqual(["workspace_ready-check-0", 'workspace_ready-wait-0 (30s, async.data.workspaceId == "w1")', "workspace_ready-check-1"]);
  });

  it("finds a callback whose event it never saw at the next slice's check", async () => {
    const { log, steps, check } = recorder(["pending", "pending", "ready"], [false, false]);
    expect(await waitUntilReady(steps, { ...opts, check })).toBe("ready");
    expect(log.filter((l) => l.includes("wait"))).toHaveLength(2);
  });

  it("reports failure as soon as a check sees it", async () => {
    const { steps, check } = recorder(["pending", "failed"], [false]);
    expect(await waitUntilReady(steps, { ...opts, check })).toBe("failed");
  });

  it("gives up after the overall timeout with a final check", async () => {
    const { log, steps, check } = recorder([]);
    expect(await waitUntilReady(steps, { ...opts, check })).toBe("pending");
    expect(log.filter((l) => l.includes("-wait-"))).toHaveLength(3);
    expect(log[log.length - 1]).toBe("workspace_ready-check-final");
  });

  it("never waits longer than the overall timeout in one slice", async () => {
    const { log, steps, check } = recorder([]);
    await waitUntilReady(steps, { ...opts, check, totalMs: 5_000 });
    expect(log.filter((l) => l.includes("-wait-"))).toEqual(['workspace_ready-wait-0 (5s, async.data.workspaceId == "w1")']);
  });
});
