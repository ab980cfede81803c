"use client";
import { formatDuration } from "../_lib/format";
import { useNow } from "../_lib/use-now";

/** The time since `startedAt`, ticking: tenths of a second for the first minute, then seconds. */
export function LiveDuration({ startedAt }: { startedAt: string }) {
  const start = Date.parse(startedAt);
  const now = useNow(Date.now() - start < 60_000 ? 100 : 1000);
  return <>{formatDuration(now - start)}</>;
}
