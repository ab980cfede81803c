import { describe, expect, it } from "vitest";
import { ConfigSchema } from "@/lib/config";
import { parseDuration } from "@/lib/contracts/duration";
import { PENDING, sliceSchedule, waitFor, type WaitTools } from "./wait-for";

/**
 * Plays the engine's part for one wait: the database's answers and the wake events are scripted;
 * a check in a race runs only after its wait was registered (as the engine orders them).
 */
function engine(checks: string[], wakes: boolean[] = []) {
  const log: string[] = [];
  const tools: WaitTools = {
    run: async <T>(id: string, fn: () => Promise<T>) => {
      log.push(id);
      return fn();
    },
    waitForEvent: async (id, opts) => {
      log.push(`${id} (${opts.timeout})`);
      const woken = wakes.shift();
      // A wait ends later than the check beside it (a wake or the slice's end is never instant).
      await new Promise((resolve) => setImmediate(resolve));
      return woken ? { name: opts.event } : null;
    },
    race: (fn) => fn(),
  };
  const check = async () => (checks.shift() ?? PENDING) as string;
  return { log, tools, check };
}

const base = { name: "workspace_ready", taskId: "t1", totalMs: 90_000, firstSliceMs: 30_000, maxSliceMs: 300_000 };

describe("waitFor", () => {
  it("registers the wait and checks beside it: a callback that landed before the wait is seen by that check", async () => {
    const { log, tools, check } = engine(["ready"]);
    expect(await waitFor(tools, { ...base, check })).toBe("ready");
    expect(log).toEqual(["workspace_ready-start", "workspace_ready-wait-0 (30s)", "workspace_ready-check-0"]);
  });

  it("looks at once when woken, without waiting for the next slice", async () => {
    const { log, tools, check } = engine([PENDING, "ready"], [true]);
    expect(await waitFor(tools, { ...base, check })).toBe("ready");
    expect(log).toEqual(["workspace_ready-start", "workspace_ready-wait-0 (30s)", "workspace_ready-check-0", "workspace_ready-woken-0"]);
  });

  it("finds a change whose wake was lost at the next slice's check", async () => {
    const { log, tools, check } = engine([PENDING, "ready"], [false]);
    expect(await waitFor(tools, { ...base, check })).toBe("ready");
    expect(log.filter((l) => l.includes("-wait-"))).toHaveLength(2);
  });

  it("answers timeout after the overall time, with a final check", async () => {
    const { log, tools, check } = engine([]);
    expect(await waitFor(tools, { ...base, check })).toBe("timeout");
    expect(log.filter((l) => l.includes("-wait-"))).toEqual(["workspace_ready-wait-0 (30s)", "workspace_ready-wait-1 (1m)"]);
    expect(log[log.length - 1]).toBe("workspace_ready-check-final");
  });

  it("promises in each check to look again within its slice, and takes the promise back when it has its answer", async () => {
    const promises: (number | null)[] = [];
    const checkIn = async (ms: number | null) => void promises.push(ms);
    const woken = engine([PENDING, PENDING, "ready"], [false, true]);
    expect(await waitFor(woken.tools, { ...base, check: woken.check, checkIn })).toBe("ready");
    // Slice 0 (30 s) found nothing; slice 1 (60 s) was woken, and its look (promising the next step) found it.
    expect(promises).toEqual([30_000, 60_000, null, null]);
    promises.length = 0;
    const timedOut = engine([]);
    expect(await waitFor(timedOut.tools, { ...base, check: timedOut.check, checkIn })).toBe("timeout");
    expect(promises).toEqual([30_000, 60_000, null]);
  });

  it("waits only for its own task's wakes", async () => {
    const seen: string[] = [];
    const tools: WaitTools = { run: async (_id, fn) => fn(), waitForEvent: async (_id, opts) => (seen.push(`${opts.event} ${opts.if}`), null), race: (fn) => fn() };
    await waitFor(tools, { ...base, totalMs: 1_000, check: async () => PENDING });
    expect(seen).toEqual(['task/wake async.data.taskId == "t1"']);
  });
});

/**
 * The engine's part on a virtual clock: a wait ends at the first wake within its timeout (the clock
 * moves to it) or at its timeout; steps take no time. Counts steps as the engine would.
 */
function clockedEngine(wakeTimes: number[]) {
  let clock = 0;
  let steps = 0;
  const wakes = [...wakeTimes].sort((a, b) => a - b);
  const tools: WaitTools = {
    run: async (_id, fn) => (steps++, fn()),
    waitForEvent: async (_id, opts) => {
      steps++;
      const timeout = parseDuration(opts.timeout)!;
      while (wakes.length && wakes[0]! < clock) wakes.shift(); // sent while no wait was registered: lost
      if (wakes.length && wakes[0]! <= clock + timeout) {
        clock = wakes.shift()!;
        return { name: opts.event };
      }
      clock += timeout;
      return null;
    },
    race: (fn) => fn(),
  };
  return { tools, now: () => clock, steps: () => steps };
}

const defaults = ConfigSchema.parse({});
/** Every wait of a task's run (inngest/functions/run-task.ts) and the setting that bounds it. */
const RUN_WAITS = {
  "node_selection-queue": defaults.TASK_QUEUE_TIMEOUT,
  node_agent_ready: defaults.NODE_AGENT_READY_TIMEOUT,
  workspace_ready: defaults.WORKSPACE_READY_TIMEOUT,
  running: defaults.AGENT_MAX_EXECUTION,
  "awaiting_followup-1-wait": defaults.SESSION_IDLE_TIMEOUT,
};

describe("a wait's deadline", () => {
  const slices = { firstSliceMs: defaults.READY_RECHECK_INTERVAL, maxSliceMs: defaults.READY_RECHECK_MAX };

  for (const [name, totalMs] of Object.entries(RUN_WAITS)) {
    it(`${name}: a thousand wakes that find nothing do not shorten it by a second`, async () => {
      // Evenly over the wait, the last one just before its end.
      const wakes = Array.from({ length: 1000 }, (_, i) => Math.floor(((i + 1) * (totalMs - 1)) / 1000));
      const engine = clockedEngine(wakes);
      const answer = await waitFor(engine.tools, { name, taskId: "t1", check: async () => PENDING, totalMs, ...slices, now: engine.now });
      expect(answer).toBe("timeout");
      expect(engine.now()).toBeGreaterThanOrEqual(totalMs);
      expect(engine.now()).toBeLessThan(totalMs + 1_000);
    });
  }

  it("a change found after a stream of wakes that found nothing ends the wait when it lands", async () => {
    const totalMs = defaults.SESSION_IDLE_TIMEOUT;
    const wakes = Array.from({ length: 100 }, (_, i) => (i + 1) * 2_000); // every 2 s, as the supervisor did
    const engine = clockedEngine([...wakes, 600_000]);
    const answer = await waitFor(engine.tools, { name: "awaiting_followup-1-wait", taskId: "t1", check: async () => (engine.now() >= 600_000 ? "deliver" : PENDING), totalMs, ...slices, now: engine.now });
    expect(answer).toBe("deliver");
    expect(engine.now()).toBe(600_000);
  });

  it("is fixed by its first step: a replay decides from recorded times, so it takes the same steps", async () => {
    const recorded = new Map<string, unknown>();
    const ids: string[][] = [];
    for (const replay of [0, 1]) {
      const engine = clockedEngine([5_000, 6_000, 70_000]);
      const seen: string[] = [];
      // The second pass replays every step from the record, with a clock far ahead.
      const tools: WaitTools = {
        ...engine.tools,
        run: async (id, fn) => {
          seen.push(id);
          if (replay) return recorded.get(id) as never;
          const value = await fn();
          recorded.set(id, value);
          return value;
        },
        waitForEvent: async (id, opts) => {
          seen.push(id);
          if (replay) return recorded.get(id) as never;
          const value = await engine.tools.waitForEvent(id, opts);
          recorded.set(id, value);
          return value;
        },
      };
      const now = replay ? () => 10 ** 12 : engine.now;
      expect(await waitFor(tools, { ...base, check: async () => PENDING, now })).toBe("timeout");
      ids.push(seen);
    }
    expect(ids[1]).toEqual(ids[0]);
    // Woken twice in slice 0, each time back to the rest of slice 0.
    expect(ids[0]).toEqual(expect.arrayContaining(["workspace_ready-wait-0-1", "workspace_ready-wait-0-2", "workspace_ready-wait-1"]));
  });
});

describe("sliceSchedule", () => {
  it("doubles from the first slice up to the cap and sums to the whole wait", () => {
    expect(sliceSchedule(90_000, 30_000, 300_000)).toEqual([30_000, 60_000]);
    expect(sliceSchedule(1_000_000, 30_000, 300_000)).toEqual([30_000, 60_000, 120_000, 240_000, 300_000, 250_000]);
  });

  it("keeps a 4 h agent wait far below 1,000 steps per run", () => {
    const slices = sliceSchedule(4 * 3_600_000, 30_000, 300_000);
    expect(slices.reduce((a, b) => a + b, 0)).toBe(4 * 3_600_000);
    // Each slice costs a wait and a check, and a wake one more check: under 200 steps in all.
    expect(slices.length * 3).toBeLessThan(200);
  });

  it("grows the cap for very long waits so any wait stays near a hundred slices", () => {
    expect(sliceSchedule(7 * 24 * 3_600_000, 30_000, 300_000).length).toBeLessThanOrEqual(110);
  });
});
