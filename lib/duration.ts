import { z } from "zod";

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses "250ms", "30s", "15m", "4h", "1d" or a bare number of milliseconds. */
export function parseDuration(input: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(input);
  if (!match) return undefined;
  const unit = (match[2] ?? "ms") as keyof typeof UNIT_MS;
  return Math.round(Number(match[1]) * UNIT_MS[unit]);
}

/** Formats milliseconds the way Inngest accepts durations ("90s", "15m"). */
export function toInngestDuration(ms: number): string {
  if (ms % UNIT_MS.h === 0 && ms >= UNIT_MS.h) return `${ms / UNIT_MS.h}h`;
  if (ms % UNIT_MS.m === 0 && ms >= UNIT_MS.m) return `${ms / UNIT_MS.m}m`;
  return `${Math.max(1, Math.ceil(ms / 1000))}s`;
}

/** A zod field for a duration given as text (env) or number (ms); the result is milliseconds. */
export function durationField(defaultValue: string) {
  return z
    .union([z.number().nonnegative(), z.string()])
    .default(defaultValue)
    .transform((value, ctx) => {
      if (typeof value === "number") return value;
      const ms = parseDuration(value);
      if (ms === undefined) {
        ctx.addIssue({ code: "custom", message: `must be a duration such as 30s, 15m, 4h or 1d (a bare number is milliseconds), not "${value}"` });
        return z.NEVER;
      }
      return ms;
    });
}
