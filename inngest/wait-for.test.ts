import { describe, expect, it } from "vitest";
import { ConfigSchema } from "@/lib/config";
import { parseDuration } from "@/lib/contracts/duration";
import { taskCancelled, workspaceReady } from "@/lib/contracts/events";
import { WAIT_EVENTS } from "@/lib/pipeline/wait-events";
import { PENDING, sliceSchedule, waitFor, type WaitTools } from "./wait-for";

/**
 * Plays the engine's part for one wait: the database's answers and the wakes are scripted, one per
 * slice's race (true: an event of `wokenBy` arrives; otherwise every wait of the race times out);
 * a check in a race runs only after its waits were registered (as the engine orders them).
 */
function engine(checks: string[], wakes: boolean[] = [], wokenBy: string = workspaceReady.name) {
  const log: string[] = [];
  let woken: boolean | undefined;
  const tools: WaitTools = {
    run: async <T>(id: string, fn: () => Promise<T>) => {
      log.push(id);
      return fn();
    },
    waitForEvent: async (id, opts) => {
      log.push(`${id} (${opts.timeout})`);
      const wakesThis = woken && opts.event === wokenBy;
      // A wait ends later than the check beside it (a wake or the slice's end is never instant).
      await new Promise((resolve) => setImmediate(resolve));
      // Woken by another event: this one waits on until its slice ends, after the race.
      if (woken && !wakesThis) return new Promise<never>(() => undefined);
      return wakesThis ? { name: opts.event } : null;
    },
    race: (fn) => {
      woken = wakes.shift();
      return fn();
    },
  };
  const check = async () => (checks.shift() ?? PENDING) as string;
  return { log, tools, check };
}

const base = { name: "workspace_ready/wait", taskId: "t1", listen: [workspaceReady], totalMs: 90_000, firstSliceMs: 30_000, maxSliceMs: 300_000 };

describe("waitFor", () => {
  it("registers the wait and checks beside it: a callback that landed before the wait is seen by that check", async () => {
    const { log, tools, check } = engine(["ready"]);
    expect(await waitFor(tools, { ...base, check })).toBe("ready");
    expect(log).toEqual(["workspace_ready/wait/start", "workspace_ready/wait/slice-0/event:workspace/ready (30s)", "workspace_ready/wait/slice-0/check"]);
  });

  it("looks at once when woken, without waiting for the next slice", async () => {
    const { log, tools, check } = engine([PENDING, "ready"], [true]);
    expect(await waitFor(tools, { ...base, check })).toBe("ready");
    expect(log).toEqual(["workspace_ready/wait/start", "workspace_ready/wait/slice-0/event:workspace/ready (30s)", "workspace_ready/wait/slice-0/check", "workspace_ready/wait/slice-0/woken"]);
  });

  it("finds a change whose wake was lost at the next slice's check", async () => {
    const { log, tools, check } = engine([PENDING, "ready"], [false]);
    expect(await waitFor(tools, { ...base, check })).toBe("ready");
    expect(log.filter((l) => l.includes("/event:"))).toHaveLength(2);
  });

  it("answers timeout after the overall time, with a final check", async () => {
    const { log, tools, check } = engine([]);
    expect(await waitFor(tools, { ...base, check })).toBe("timeout");
    expect(log.filter((l) => l.includes("/event:"))).toEqual(["workspace_ready/wait/slice-0/event:workspace/ready (30s)", "workspace_ready/wait/slice-1/event:workspace/ready (1m)"]);
    expect(log[log.length - 1]).toBe("workspace_ready/wait/final-check");
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
    await waitFor(tools, { ...base, listen: WAIT_EVENTS.workspace_ready, totalMs: 1_000, check: async () => PENDING });
    expect(seen).toEqual(["workspace/ready", "workspace/provisioning-failed", "node/lost", "task/cancelled"].map((event) => `${event} async.data.taskId == "t1"`));
  });

  it("registers a wait for each event it listens for, all in the race before the check beside them", async () => {
    const { log, tools, check } = engine(["ready"]);
    expect(await waitFor(tools, { ...base, listen: WAIT_EVENTS.workspace_ready, check })).toBe("ready");
    expect(log).toEqual([
      "workspace_ready/wait/start",
      "workspace_ready/wait/slice-0/event:workspace/ready (30s)",
      "workspace_ready/wait/slice-0/event:workspace/provisioning-failed (30s)",
      "workspace_ready/wait/slice-0/event:node/lost (30s)",
      "workspace_ready/wait/slice-0/event:task/cancelled (30s)",
      "workspace_ready/wait/slice-0/check",
    ]);
  });

  it("looks at once when woken by any event it listens for, and its look names that event", async () => {
    const { log, tools, check } = engine([PENDING, "ended"], [true], taskCancelled.name);
    const looks = new Map<string, unknown>();
    const recording: WaitTools = {
      ...tools,
      run: async (id, fn) => {
        const value = await tools.run(id, fn);
        looks.set(id, value);
        return value;
      },
    };
    expect(await waitFor(recording, { ...base, listen: WAIT_EVENTS.workspace_ready, check })).toBe("ended");
    expect(log.slice(-2)).toEqual(["workspace_ready/wait/slice-0/check", "workspace_ready/wait/slice-0/woken"]);
    expect(looks.get("workspace_ready/wait/slice-0/woken")).toMatchObject({ result: "ended", wokenBy: "task/cancelled" });
  });

  it("refuses a wait that listens for nothing: nothing could wake it", async () => {
    const { tools, check } = engine([]);
    await expect(waitFor(tools, { ...base, listen: [], check })).rejects.toThrow("wait workspace_ready/wait listens for no event");
  });
});

/**
 * The engine's part on a virtual clock: a slice's race ends at the first wake within its timeout
 * (the clock moves to it; it goes to the first wait, the others wait on past the race) or at its
 * timeout (every wait ends); steps take no time. Counts steps as the engine would: every wait
 * registered ends some time, by its event or its timeout, and each end is a step.
 */
function clockedEngine(wakeTimes: number[]) {
  let clock = 0;
  let steps = 0;
  const wakes = [...wakeTimes].sort((a, b) => a - b);
  let registered: { event: string; timeoutMs: number; resolve: (event: { name: string } | null) => void }[] = [];
  const tools: WaitTools = {
    run: async (_id, fn) => (steps++, fn()),
    waitForEvent: (_id, opts) => {
      steps++;
      return new Promise((resolve) => registered.push({ event: opts.event, timeoutMs: parseDuration(opts.timeout)!, resolve }));
    },
    race: (fn) => {
      registered = [];
      const raced = fn(); // registers the race's waits at once, as the engine saves them first
      const [first] = registered;
      if (first) {
        while (wakes.length && wakes[0]! < clock) wakes.shift(); // sent while no wait was registered: lost
        if (wakes.length && wakes[0]! <= clock + first.timeoutMs) {
          clock = wakes.shift()!;
          first.resolve({ name: first.event });
        } else {
          clock += first.timeoutMs;
          for (const wait of registered) wait.resolve(null);
        }
      }
      return raced;
    },
  };
  return { tools, now: () => clock, steps: () => steps };
}

const defaults = ConfigSchema.parse({});
/** Every wait of a task's run (inngest/functions/run-task.ts) and the setting that bounds it. */
const RUN_WAITS = {
  "node_selection/queue": { totalMs: defaults.TASK_QUEUE_TIMEOUT, listen: WAIT_EVENTS.queue },
  "node_agent_ready/wait": { totalMs: defaults.NODE_AGENT_READY_TIMEOUT, listen: WAIT_EVENTS.node_agent_ready },
  "workspace_ready/wait": { totalMs: defaults.WORKSPACE_READY_TIMEOUT, listen: WAIT_EVENTS.workspace_ready },
  "running/turn-1/wait": { totalMs: defaults.AGENT_MAX_EXECUTION, listen: WAIT_EVENTS.running },
  "awaiting_followup/turn-1/wait": { totalMs: defaults.SESSION_IDLE_TIMEOUT, listen: WAIT_EVENTS.awaiting_followup },
};

describe("a wait's deadline", () => {
  const slices = { firstSliceMs: defaults.READY_RECHECK_INTERVAL, maxSliceMs: defaults.READY_RECHECK_MAX };

  for (const [name, { totalMs, listen }] of Object.entries(RUN_WAITS)) {
    it(`${name}: a thousand wakes that find nothing do not shorten it by a second`, async () => {
      // Evenly over the wait, the last one just before its end.
      const wakes = Array.from({ length: 1000 }, (_, i) => Math.floor(((i + 1) * (totalMs - 1)) / 1000));
      const engine = clockedEngine(wakes);
      const answer = await waitFor(engine.tools, { name, taskId: "t1", listen, check: async () => PENDING, totalMs, ...slices, now: engine.now });
      expect(answer).toBe("timeout");
      expect(engine.now()).toBeGreaterThanOrEqual(totalMs);
      expect(engine.now()).toBeLessThan(totalMs + 1_000);
    });

    it(`${name}: waiting its whole time for its ${listen.length} events costs a step per event and one check per slice, far below 1,000`, async () => {
      const engine = clockedEngine([]);
      expect(await waitFor(engine.tools, { name, taskId: "t1", listen, check: async () => PENDING, totalMs, ...slices, now: engine.now })).toBe("timeout");
      const sliceCount = sliceSchedule(totalMs, slices.firstSliceMs, slices.maxSliceMs).length;
      // Its start, each slice's waits and check, the final check.
      expect(engine.steps()).toBe(1 + sliceCount * (listen.length + 1) + 1);
      expect(engine.steps()).toBeLessThan(500);
    });
  }

  it("a change found after a stream of wakes that found nothing ends the wait when it lands", async () => {
    const totalMs = defaults.SESSION_IDLE_TIMEOUT;
    const wakes = Array.from({ length: 100 }, (_, i) => (i + 1) * 2_000); // every 2 s, as the supervisor did
    const engine = clockedEngine([...wakes, 600_000]);
    const answer = await waitFor(engine.tools, { name: "awaiting_followup/turn-1/wait", taskId: "t1", listen: WAIT_EVENTS.awaiting_followup, check: async () => (engine.now() >= 600_000 ? "deliver" : PENDING), totalMs, ...slices, now: engine.now });
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
          // A wait that never ended has no record: on replay it is still waiting.
          if (replay) return recorded.has(id) ? (recorded.get(id) as never) : new Promise<never>(() => undefined);
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
    expect(ids[0]).toEqual(expect.arrayContaining(["workspace_ready/wait/slice-0.1/event:workspace/ready", "workspace_ready/wait/slice-0.2/event:workspace/ready", "workspace_ready/wait/slice-1/event:workspace/ready"]));
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
    // Each slice costs a step per event listened for (four at most) and one for its check: under 300 steps in all.
    const mostEvents = Math.max(...Object.values(WAIT_EVENTS).map((events) => events.length));
    expect(mostEvents).toBe(4);
    expect(slices.length * (mostEvents + 1)).toBeLessThan(300);
  });

  it("grows the cap for very long waits so any wait stays near a hundred slices", () => {
    expect(sliceSchedule(7 * 24 * 3_600_000, 30_000, 300_000).length).toBeLessThanOrEqual(110);
  });
});
