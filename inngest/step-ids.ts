/**
 * Every step id of a run follows one scheme, so the engine's dashboard reads like the task's timeline:
 *
 *   <stage>[/attempt-<n>][/turn-<k>]/<action>
 *
 * `<stage>` is the execution step the step belongs to (lib/contracts/api.ts EXECUTION_STEPS), or
 * `run` for the run's own bookkeeping; `attempt-<n>` counts placements after the first (a node lost
 * before the agent started: n ≥ 1), `turn-<k>` the agent's turn the step serves (for `awaiting_followup`,
 * the turn that just ended); `<action>` is a verb
 * (`select`, `create`, `wait`, …). A wait's own steps go on below its id (inngest/wait-for.ts:
 * `…/wait/start`, `…/wait/slice-<i>/event:<event name>`, `…/wait/slice-<i>/check`).
 */
import type { ExecutionStep } from "@/lib/contracts/api";

export type StepScope = { attempt?: number; turn?: number };

export function stepId(stage: ExecutionStep | "run", action: string, scope: StepScope = {}): string {
  const parts: string[] = [stage];
  if (scope.attempt) parts.push(`attempt-${scope.attempt}`);
  if (scope.turn !== undefined) parts.push(`turn-${scope.turn}`);
  parts.push(action);
  return parts.join("/");
}

/** The shape every id `stepId` makes matches (a wait's own steps add parts below it). */
export const STEP_ID_PATTERN = /^(run|[a-z_]+)(\/attempt-[1-9]\d*)?(\/turn-[1-9]\d*)?\/[a-z][a-z-]*(\d+)?(\/.+)?$/;
