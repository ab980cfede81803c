/**
 * What an agent's turn used, as its CLI's own stream reports it (lib/contracts/agents/ reads each
 * CLI's events into this shape), and the sums the pages and budgets work with. Both sides use it:
 * the daemon reports a turn's usage in its completion callback, the control plane stores and adds.
 */
import { z } from "zod";

const Tokens = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/**
 * One turn's figures. `inputTokens` are the input tokens not read from the prompt cache (each CLI's
 * own total is split this way); `costUsd` is there only when the CLI priced the run itself (Claude
 * Code does; Codex does not, and the control plane prices it from MODEL_PRICES).
 */
export const TurnUsage = z.object({
  inputTokens: Tokens,
  outputTokens: Tokens,
  cacheReadTokens: Tokens,
  cacheWriteTokens: Tokens,
  costUsd: z.number().nonnegative().max(1_000_000).optional(),
});
export type TurnUsage = z.infer<typeof TurnUsage>;


/** Several turns' figures added up; `unpricedTurns` counts turns with tokens but no price, so a total never looks complete when it is not. */
export const UsageTotals = z.object({
  inputTokens: Tokens,
  outputTokens: Tokens,
  cacheReadTokens: Tokens,
  cacheWriteTokens: Tokens,
  costUsd: z.number().nonnegative(),
  turns: z.number().int().nonnegative(),
  unpricedTurns: z.number().int().nonnegative(),
});
export type UsageTotals = z.infer<typeof UsageTotals>;

export const NO_USAGE: UsageTotals = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0, turns: 0, unpricedTurns: 0 };

/** Every token a turn moved, cached or not. */
export const totalTokens = (usage: Pick<TurnUsage, "inputTokens" | "outputTokens" | "cacheReadTokens" | "cacheWriteTokens">) =>
  usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;

/** Two totals added up, field by field. */
export function addTotals(a: UsageTotals, b: UsageTotals): UsageTotals {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    costUsd: a.costUsd + b.costUsd,
    turns: a.turns + b.turns,
    unpricedTurns: a.unpricedTurns + b.unpricedTurns,
  };
}

/** Adds one turn to a total; a turn without a cost counts as unpriced. */
export function addTurn(total: UsageTotals, turn: TurnUsage): UsageTotals {
  return addTotals(total, { ...turn, costUsd: turn.costUsd ?? 0, turns: 1, unpricedTurns: turn.costUsd === undefined ? 1 : 0 });
}
