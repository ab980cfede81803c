/**
 * The race rule (ARCHITECTURE.md): `waitForEvent` only sees events sent after the wait is
 * registered. So check the database in a step first, then wait for the event in slices,
 * re-checking between slices, until the overall timeout. A callback that arrived early, or whose
 * event was lost, is found by the next check.
 */
import { toInngestDuration } from "@/lib/duration";
import type { Readiness } from "@/lib/pipeline/stages";

/** The two step tools the rule needs (a subset of Inngest's `step`). */
export type WaitSteps = {
  run(id: string, fn: () => Promise<Readiness>): Promise<Readiness>;
  waitForEvent(id: string, opts: { event: string; timeout: string; if: string }): Promise<unknown>;
};

export async function waitUntilReady(
  step: WaitSteps,
  opts: { name: string; check: () => Promise<Readiness>; event: string; ifExpr: string; totalMs: number; sliceMs: number },
): Promise<Readiness> {
  const sliceMs = Math.min(opts.sliceMs, opts.totalMs);
  const slices = Math.max(1, Math.ceil(opts.totalMs / sliceMs));
  for (let i = 0; i < slices; i++) {
    const state = await step.run(`${opts.name}-check-${i}`, opts.check);
    if (state !== "pending") return state;
    await step.waitForEvent(`${opts.name}-wait-${i}`, { event: opts.event, timeout: toInngestDuration(sliceMs), if: opts.ifExpr });
  }
  return step.run(`${opts.name}-check-final`, opts.check);
}
