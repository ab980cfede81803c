/** Durations as settings give them ("30s", "15m"), read the same way by the control plane and the vm-agent. */
import { z } from "zod";

export const DURATION_UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses "250ms", "30s", "15m", "4h", "1d" or a bare number of milliseconds. */
export function parseDuration(input: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(input);
  if (!match) return undefined;
  const unit = (match[2] ?? "ms") as keyof typeof DURATION_UNIT_MS;
  return Math.round(Number(match[1]) * DURATION_UNIT_MS[unit]);
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
