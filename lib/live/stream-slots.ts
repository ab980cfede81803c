/**
 * How many live streams each person has open in this process: at most MAX_LIVE_STREAMS_PER_USER
 * (each app instance counts its own). A stream holds its slot until it ends, by either side.
 */
export class StreamLimitError extends Error {
  override readonly name = "StreamLimitError";
  readonly retryAfterSeconds = 5;
}

const globalForSlots = globalThis as typeof globalThis & { __liveStreamSlots?: Map<string, number> };
const open = (globalForSlots.__liveStreamSlots ??= new Map<string, number>());

/** Takes one of `userId`'s slots, or throws StreamLimitError; answers the release (safe to call more than once). */
export function takeStreamSlot(userId: string, max: number): () => void {
  const held = open.get(userId) ?? 0;
  if (held >= max) throw new StreamLimitError(`${held} live streams are open for you, the most allowed at once (MAX_LIVE_STREAMS_PER_USER); close a tab or another stream`);
  open.set(userId, held + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (open.get(userId) ?? 1) - 1;
    if (left > 0) open.set(userId, left);
    else open.delete(userId);
  };
}

/** The slots `userId` holds now. */
export const openStreams = (userId: string) => open.get(userId) ?? 0;
