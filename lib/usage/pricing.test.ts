import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../config";
import { DEFAULT_PRICE_TABLE, ModelPriceEntry, priceOf, priceTurn } from "./pricing";

const turn = { inputTokens: 200_000, outputTokens: 10_000, cacheReadTokens: 1_000_000, cacheWriteTokens: 0 };

describe("MODEL_PRICES", () => {
  it("reads model=input/cachedInput/output[/cacheWrite] in dollars per million tokens, cache writes at input's price unless given", () => {
    expect(ModelPriceEntry.parse("my-model=3/0.3/15/3.75")).toEqual(["my-model", { input: 3, cachedInput: 0.3, output: 15, cacheWrite: 3.75 }]);
    expect(ModelPriceEntry.parse("gpt-x=2/0.5/8")).toEqual(["gpt-x", { input: 2, cachedInput: 0.5, output: 8, cacheWrite: 2 }]);
  });

  it("replaces the built-in table, and a bad entry stops the start naming the setting and the entry", () => {
    const config = parseConfig({ MODEL_PRICES: "house-model=1/0.1/4, other=2/0.2/8" });
    expect(Object.keys(config.MODEL_PRICES)).toEqual(["house-model", "other"]);
    expect(parseConfig({}).MODEL_PRICES).toEqual(DEFAULT_PRICE_TABLE);
    expect(() => parseConfig({ MODEL_PRICES: "house-model=1/0.1" })).toThrow(ConfigError);
    expect(() => parseConfig({ MODEL_PRICES: "house-model=1/0.1" })).toThrow(/MODEL_PRICES.*"house-model=1\/0\.1".*model=input\/cachedInput\/output/);
  });
});

describe("priceTurn", () => {
  it("keeps the CLI's own price when it gave one (Claude Code)", () => {
    expect(priceTurn({ ...turn, costUsd: 0.42 }, "gpt-5-codex", DEFAULT_PRICE_TABLE)).toEqual({ costUsd: 0.42, source: "agent" });
  });

  it("prices Codex's tokens from the table: fresh input, cached input and output each at their own price", () => {
    // gpt-5-codex: $1.25 per million input, $0.125 cached, $10 output.
    const priced = priceTurn(turn, "gpt-5-codex", DEFAULT_PRICE_TABLE)!;
    expect(priced.source).toBe("price-table");
    expect(priced.costUsd).toBeCloseTo(0.2 * 1.25 + 1 * 0.125 + 0.01 * 10, 10);
  });

  it("finds a dated model under its base name, the longest that matches, and leaves an unknown model unpriced", () => {
    expect(priceOf(DEFAULT_PRICE_TABLE, "gpt-5.1-codex-mini-2025-11-01")).toEqual(DEFAULT_PRICE_TABLE["gpt-5.1-codex-mini"]);
    expect(priceOf(DEFAULT_PRICE_TABLE, "gpt-5-codex-2025-09-15")).toEqual(DEFAULT_PRICE_TABLE["gpt-5-codex"]);
    expect(priceTurn(turn, "someone-elses-model", DEFAULT_PRICE_TABLE)).toBeUndefined();
    expect(priceTurn(turn, null, DEFAULT_PRICE_TABLE)).toBeUndefined();
    // A name that only shares a prefix is not that model.
    expect(priceOf(DEFAULT_PRICE_TABLE, "gpt-5x")).toBeUndefined();
  });
});
