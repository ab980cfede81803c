/**
 * The race rule (ARCHITECTURE.md): `waitForEvent` only sees events sent after the wait is
 * registered, and writers commit before they send. So every slice of a wait registers one wait per
 * event it listens for (lib/pipeline/wait-events.ts: its stage's events, a cancel, a lost node)
 * and, in the same parallel group, checks the database in a step. The engine saves all the waits
 * of a response before it runs the steps planned beside them (v1.1.0's executor handles every
 * WaitForEvent op first, `opGroups`), so that check always runs after each wait exists: a change
 * committed before the check is seen by it, and one committed after it sends an event its wait
 * catches. No callback can fall between the two, whenever it lands, whichever event it sends.
 *
 * Slices only matter when a wake was lost (the engine was down when it was sent): they start at
 * `firstSliceMs` and double up to `maxSliceMs` (or a hundredth of the whole wait, if that is
 * longer). Each slice costs one step per event listened for (every wait ends, by its event or its
 * timeout) and one for the check. At the defaults, the agent's 4 h wait (51 slices, four events)
 * costs about 260 steps and the 24 h queue (104 slices, two events) about 310, against an engine's
 * per-run limit of 1,000 (inngest/wait-for.test.ts counts them); so a wait listens for few events,
 * four at most. Wakes never count against the deadline or the slices: a wake that finds nothing to
 * do waits for the rest of its slice, and repeated wakes are coalesced per task and event name
 * before they reach the engine (lib/tasks/wake-run.ts), so each costs the run one look and a new
 * set of waits.
 */
import { toInngestDuration } from "@/lib/duration";
import { PENDING } from "@/lib/pipeline/stage";

export { PENDING };

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

const TIMED_OUT = Symbol("timed out");
const never = new Promise<never>(() => undefined);

export type WaitOptions<T> = {
  /**
   * Its step ids go on below it (inngest/step-ids.ts): `<name>/start`, `<name>/slice-<i>[.<k>]/event:<event name>`,
   * `<name>/slice-<i>[.<k>]/check`, `<name>/slice-<i>[.<k>]/woken` (whose answer names the event that woke
   * it) and `<name>/final-check`, so the engine's dashboard shows what the run waits for and what woke it.
   */
  name: string;
  taskId: string;
  /** The events that may mean the check's answer changed, each matched on the task id; at least one. */
  listen: readonly { name: string }[];
  /** Reads the database: a result ends the wait, PENDING keeps waiting. */
  check: () => Promise<T | typeof PENDING>;
  totalMs: number;
  firstSliceMs: number;
  maxSliceMs: number;
  /**
   * Called at the start of every look with how long until the run looks again (the rest of its
   * slice; null when it goes on to its next step now), and with null once the wait has its answer:
   * the run's own promise, so a run the engine keeps but never resumes can be told from one that
   * waits (lib/recovery/stalled.ts). It also answers the wakes sent so far (lib/tasks/wake-run.ts).
   */
  checkIn?: (nextCheckWithinMs: number | null) => Promise<void>;
  /** The clock, read only inside steps (so a replay decides from recorded times). */
  now?: () => number;
};

/**
 * Waits until `check` gives a result, or answers "timeout" at the wait's deadline.
 *
 * The deadline is fixed when the wait starts (its first step records the time, so every replay
 * computes the same slice ends and deadline), and time alone ends the wait: a wake whose look finds
 * nothing goes on waiting for the rest of the same slice. Every decision is taken from values the
 * steps recorded, never from the clock of a replay, so the run's steps are the same on every replay.
 */
export async function waitFor<T>(tools: WaitTools, opts: WaitOptions<T>): Promise<T | "timeout"> {
  if (!opts.listen.length) throw new Error(`wait ${opts.name} listens for no event`);
  const now = opts.now ?? Date.now;
  const ifExpr = `async.data.taskId == "${opts.taskId}"`;
  const startedAt = await tools.run(`${opts.name}/start`, async () => now());
  let sliceEnd = startedAt;
  const sliceEnds = sliceSchedule(opts.totalMs, opts.firstSliceMs, opts.maxSliceMs).map((ms) => (sliceEnd += ms));
  /** A look at the database, with when it looked. */
  const look = async (nextCheckWithinMs: number | null) => {
    await opts.checkIn?.(nextCheckWithinMs);
    const result = await opts.check();
    if (result !== PENDING) await opts.checkIn?.(null);
    return { result, at: now() };
  };
  let at = startedAt;
  for (const [i, end] of sliceEnds.entries()) {
    for (let k = 0; at < end; k++) {
      const slice = `${opts.name}/slice-${k ? `${i}.${k}` : i}`;
      const left = end - at;
      const timeout = toInngestDuration(left);
      const outcome = await tools.race(() =>
        Promise.race([
          ...opts.listen.map((event) =>
            tools
              .waitForEvent(`${slice}/event:${event.name}`, { event: event.name, timeout, if: ifExpr })
              .then((got) => (got ? { woke: event.name } : TIMED_OUT)),
          ),
          tools.run(`${slice}/check`, () => look(left)).then((looked) => (looked.result === PENDING ? never : looked)),
        ]),
      );
      if (outcome === TIMED_OUT) break;
      if (!("woke" in outcome)) return outcome.result as T;
      // Woken: look now rather than one engine round trip later with the next set of waits.
      const wokenBy = outcome.woke;
      const woken = await tools.run(`${slice}/woken`, async () => ({ ...(await look(null)), wokenBy }));
      if (woken.result !== PENDING) return woken.result as T;
      // Nothing to do: the rest of this slice, not the next one (a stream of wakes must not eat the deadline).
      at = woken.at;
    }
    at = Math.max(at, end);
  }
  // The wait is over either way (its answer, or a timeout the run acts on next): the look promises the next step.
  const last = await tools.run(`${opts.name}/final-check`, () => look(null));
  return last.result === PENDING ? "timeout" : (last.result as T);
}
