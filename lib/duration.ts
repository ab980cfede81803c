/** Durations the way the engine takes them; how settings give them is lib/contracts/duration.ts. */
import { DURATION_UNIT_MS } from "./contracts/duration";

/** Formats milliseconds the way Inngest accepts durations ("90s", "15m"). */
export function toInngestDuration(ms: number): string {
  if (ms % DURATION_UNIT_MS.h === 0 && ms >= DURATION_UNIT_MS.h) return `${ms / DURATION_UNIT_MS.h}h`;
  if (ms % DURATION_UNIT_MS.m === 0 && ms >= DURATION_UNIT_MS.m) return `${ms / DURATION_UNIT_MS.m}m`;
  return `${Math.max(1, Math.ceil(ms / 1000))}s`;
}
