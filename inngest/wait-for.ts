/**
 * The race rule (ARCHITECTURE.md): `waitForEvent` only sees events sent after the wait is
 * registered, and writers commit before they send. So every slice of a wait registers the wait
 * for the task's wake event and, in parallel with it, checks the database in a step. The engine
 * saves a run's waits before it runs the steps planned beside them (v1.1.0's executor handles the
 * WaitForEvent group first), so that check always runs after the wait exists: a change committed
 * before the check is seen by it, and one committed after it sends a wake the wait catches. No
 * callback can fall between the two, whenever it lands.
 *
 * Slices only matter when a wake was lost (the engine was down when it was sent): they start at
 * `firstSliceMs` and double up to `maxSliceMs` (or a hundredth of the whole wait, if that is
 * longer), so a 4 h wait costs about a hundred steps, far below an engine's per-run step limit.
 */
import { toInngestDuration } from "@/lib/duration";
import { taskWake } from "@/lib/contracts/events";

export const PENDING = "pending" as const;

/** The step tools the rule needs (a subset of Inngest's `step` and `group`). */
export type WaitTools = {
  run<T>(id: string, fn: () => Promise<T>): Promise<T>;
  waitForEvent(id: string, opts: { event: string; timeout: string; if: string }): Promise<unknown>;
  /** Runs `fn`, whose steps race (Inngest's `group.parallel({ mode: "race" })`). */
  race<T>(fn: () => Promise<T>): Promise<T>;
};

/** The lengths of a wait's slices: doubling from `firstMs` up to the cap, summing to `totalMs`. */
export function sliceSchedule(totalMs: number, firstMs: number, maxMs: number): number[] {
  const cap = Math.max(maxMs, Math.ceil(totalMs / 100), 1);
  const slices: number[] = [];
  let next = Math.max(1, Math.min(firstMs, cap));
  for (let left = totalMs; left > 0; left -= slices[slices.length - 1]!) {
    slices.push(Math.min(next, left));
    next = Math.min(next * 2, cap);
  }
  return slices.length ? slices : [1];
}

const WOKE = Symbol("woke");
const TIMED_OUT = Symbol("timed out");
const never = new Promise<never>(() => undefined);

export type WaitOptions<T> = {
  /** Step ids start with it: `<name>-wait-<i>`, `<name>-check-<i>`. */
  name: string;
  taskId: string;
  /** Reads the database: a result ends the wait, PENDING keeps waiting. */
  check: () => Promise<T | typeof PENDING>;
  totalMs: number;
  firstSliceMs: number;
  maxSliceMs: number;
  /**
   * Called in each check step with how long until the run looks again (the slice's length), and
   * with null once the wait is over (the run goes on to its next step): the run's own promise, so
   * a run the engine keeps but never resumes can be told from one that waits (lib/recovery/stalled.ts).
   */
  checkIn?: (nextCheckWithinMs: number | null) => Promise<void>;
};

/** Waits until `check` gives a result, or answers "timeout" after `totalMs`. */
export async function waitFor<T>(tools: WaitTools, opts: WaitOptions<T>): Promise<T | "timeout"> {
  const ifExpr = `async.data.taskId == "${opts.taskId}"`;
  const slices = sliceSchedule(opts.totalMs, opts.firstSliceMs, opts.maxSliceMs);
  /** The check, with the run's promise to look again within `sliceMs` (or that it is done waiting). */
  const checked = async (sliceMs: number | null) => {
    if (sliceMs !== null) await opts.checkIn?.(sliceMs);
    const result = await opts.check();
    if (result !== PENDING) await opts.checkIn?.(null);
    return result;
  };
  for (const [i, sliceMs] of slices.entries()) {
    const outcome = await tools.race(() =>
      Promise.race([
        tools
          .waitForEvent(`${opts.name}-wait-${i}`, { event: taskWake.name, timeout: toInngestDuration(sliceMs), if: ifExpr })
          .then((event) => (event ? WOKE : TIMED_OUT)),
        tools.run(`${opts.name}-check-${i}`, () => checked(sliceMs)).then((result) => (result === PENDING ? never : result)),
      ]),
    );
    if (outcome === TIMED_OUT) continue;
    if (outcome !== WOKE) return outcome as T;
    // Woken: look now rather than one engine round trip later with the next slice's pair.
    const woken = await tools.run(`${opts.name}-woken-${i}`, () => checked(null));
    if (woken !== PENDING) return woken;
  }
  const last = await tools.run(`${opts.name}-check-final`, async () => {
    const result = await opts.check();
    // The wait is over either way (its answer, or a timeout the run acts on next).
    await opts.checkIn?.(null);
    return result;
  });
  return last === PENDING ? "timeout" : last;
}
