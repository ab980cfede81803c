/**
 * What a turn cost. Claude Code prices its own runs (its `result` event's `total_cost_usd`); Codex
 * reports tokens only, so the control plane prices them from MODEL_PRICES: US dollars per million
 * tokens of each model, as its provider publishes them. A turn of a model the table does not know
 * keeps its tokens and no price, and the totals count it as unpriced rather than as free.
 */
import { z } from "zod";
import type { CostSource } from "../contracts/statuses";
import type { TurnUsage } from "../contracts/usage";

/** US dollars per million tokens: fresh input, input read from the cache, output, and input written to the cache. */
export type ModelPrice = { input: number; cachedInput: number; output: number; cacheWrite: number };
export type PriceTable = Readonly<Record<string, ModelPrice>>;

const amount = String.raw`\d+(?:\.\d+)?`;
const ENTRY = new RegExp(String.raw`^([A-Za-z0-9][A-Za-z0-9._:/-]*)=(${amount})/(${amount})/(${amount})(?:/(${amount}))?$`);

/** One MODEL_PRICES entry, `model=input/cachedInput/output[/cacheWrite]` (dollars per million tokens; cache writes cost input's price when not given). */
export const ModelPriceEntry = z.string().transform((text, ctx): [string, ModelPrice] | typeof z.NEVER => {
  const match = ENTRY.exec(text);
  if (!match) {
    ctx.addIssue({ code: "custom", message: "is not model=input/cachedInput/output[/cacheWrite] in dollars per million tokens, such as gpt-5-codex=1.25/0.125/10" });
    return z.NEVER;
  }
  const [, model, input, cachedInput, output, cacheWrite] = match;
  return [model!, { input: Number(input), cachedInput: Number(cachedInput), output: Number(output), cacheWrite: Number(cacheWrite ?? input) }];
});

/**
 * Published prices per million tokens (standard tier): OpenAI's for the models Codex runs, and
 * Anthropic's for Claude Code's (cache writes at the 5-minute rate), which price a Claude turn's
 * spend while it runs (its CLI prices the whole turn only at its end). MODEL_PRICES replaces the
 * whole list.
 */
export const DEFAULT_MODEL_PRICES = [
  "gpt-5=1.25/0.125/10",
  "gpt-5-codex=1.25/0.125/10",
  "gpt-5.1=1.25/0.125/10",
  "gpt-5.1-codex=1.25/0.125/10",
  "gpt-5.1-codex-mini=0.25/0.025/2",
  "gpt-5-mini=0.25/0.025/2",
  "gpt-5-nano=0.05/0.005/0.4",
  "codex-mini-latest=1.5/0.375/6",
  "claude-opus-4-5=5/0.5/25/6.25",
  "claude-opus-4-1=15/1.5/75/18.75",
  "claude-opus-4=15/1.5/75/18.75",
  "claude-sonnet-4-5=3/0.3/15/3.75",
  "claude-sonnet-4=3/0.3/15/3.75",
  "claude-haiku-4-5=1/0.1/5/1.25",
  "claude-3-5-haiku=0.8/0.08/4/1",
].join(",");

/** A price table from MODEL_PRICES's entries. */
export const priceTable = (entries: readonly (readonly [string, ModelPrice])[]): PriceTable => Object.fromEntries(entries);

/** The table MODEL_PRICES gives when it is unset. */
export const DEFAULT_PRICE_TABLE = priceTable(DEFAULT_MODEL_PRICES.split(",").map((entry) => ModelPriceEntry.parse(entry)));

/** The table's price for `model`: its own entry, else the longest entry it extends with a dated or suffixed name (`gpt-5-codex-2025-09-15`). */
export function priceOf(table: PriceTable, model: string | null | undefined): ModelPrice | undefined {
  if (!model) return undefined;
  if (Object.hasOwn(table, model)) return table[model];
  const base = Object.keys(table)
    .filter((name) => model.startsWith(`${name}-`))
    .sort((a, b) => b.length - a.length)[0];
  return base ? table[base] : undefined;
}

/** The turn's cost and where it came from: the CLI's own figure first, else the table's price for its model, else none. */
export function priceTurn(usage: TurnUsage, model: string | null | undefined, table: PriceTable): { costUsd: number; source: CostSource } | undefined {
  if (usage.costUsd !== undefined) return { costUsd: usage.costUsd, source: "agent" };
  const price = priceOf(table, model);
  if (!price) return undefined;
  const dollars = usage.inputTokens * price.input + usage.cacheReadTokens * price.cachedInput + usage.outputTokens * price.output + usage.cacheWriteTokens * price.cacheWrite;
  return { costUsd: dollars / 1_000_000, source: "price-table" };
}
