/** How the usage figures read on the pages: money, token counts, node time and a cost that may be incomplete. */

const dollars = (fractionDigits: number) =>
  new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: fractionDigits, maximumFractionDigits: fractionDigits });
const CENTS = dollars(2);
const HUNDREDTHS_OF_CENTS = dollars(4);

/** "$0.00", "$0.0038" (a turn costs fractions of a cent), "$0.04", "$1.23", "$1,234.50"; under a hundredth of a cent "<$0.0001". */
export function formatUsd(usd: number): string {
  const safe = Math.max(0, usd);
  if (safe === 0) return CENTS.format(0);
  if (safe < 0.0001) return "<$0.0001";
  if (safe < 0.01) return HUNDREDTHS_OF_CENTS.format(safe);
  return CENTS.format(safe);
}

const TOKEN_UNITS = [
  { size: 1e9, suffix: "B" },
  { size: 1e6, suffix: "M" },
  { size: 1e3, suffix: "k" },
] as const;

/** Three significant digits at most: 950, 1.2k, 12.4k, 124k, 1.5M; a figure that rounds up to 1000 of its unit takes the next unit. */
export function formatTokens(tokens: number): string {
  const safe = Math.max(0, Math.round(tokens));
  if (safe < 1000) return String(safe);
  for (let index = TOKEN_UNITS.length - 1; index >= 0; index--) {
    const { size, suffix } = TOKEN_UNITS[index]!;
    const scaled = safe / size;
    const rounded = scaled < 100 ? Math.round(scaled * 10) / 10 : Math.round(scaled);
    if (rounded < 1000 || index === 0) return `${rounded}${suffix}`;
  }
  return String(safe);
}

/** Every digit, for a title: "12,400". */
export const formatTokensExact = (tokens: number) => Math.round(tokens).toLocaleString("en-US");

/** Time on a node: "0 s", "45 s", "4 min 12 s", "2 h 5 min"; whole seconds, rounded down. */
export function formatNodeTime(ms: number): string {
  const seconds = Math.floor(Math.max(0, ms) / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const turnsText = (count: number) => `${count} unpriced ${count === 1 ? "turn" : "turns"}`;

/**
 * A cost that says when it is incomplete: "$1.23", "$1.23 + 2 unpriced turns", or, when no turn
 * had a price at all, "2 unpriced turns" (a "$0.00" there would read as free).
 */
export function formatCost({ costUsd, unpricedTurns }: { costUsd: number; unpricedTurns: number }): string {
  if (unpricedTurns === 0) return formatUsd(costUsd);
  if (costUsd === 0) return turnsText(unpricedTurns);
  return `${formatUsd(costUsd)} + ${turnsText(unpricedTurns)}`;
}

/** Past this many characters or lines a turn's closing summary starts collapsed (its first lines show). */
const SUMMARY_SHORT_CHARS = 320;
const SUMMARY_SHORT_LINES = 5;

/** A turn's closing summary that would push the per-turn list down: shown collapsed until asked for. */
export const summaryIsLong = (summary: string) => summary.length > SUMMARY_SHORT_CHARS || summary.trim().split("\n").length > SUMMARY_SHORT_LINES;
