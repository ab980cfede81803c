/**
 * Server-sent-event streams fed by the live hub. Each stream subscribes first, then sends its
 * snapshot, then one message per change (coalesced while a send is in flight), each with the
 * newest live event id so a reconnecting browser resumes with Last-Event-ID.
 */
import type { LiveMessage } from "../contracts/api";
import type { LiveHub, LiveNotice } from "./hub";
import { AUTH_STREAM } from "./publish";

export type SseSource = {
  /** The first message(s) of the stream. */
  snapshot(): Promise<LiveMessage[]>;
  /** Messages for a change, or none when the change is not this stream's. */
  onChange(notice: LiveNotice): Promise<LiveMessage[]>;
  /** Whether a notice concerns this stream at all (cheap filter before any read). */
  wants(notice: LiveNotice): boolean;
  /** The id the snapshot stands at. */
  snapshotEventId(): Promise<number>;
  /**
   * Whether the caller may still read (a revoked token may not). Asked at every keep-alive and
   * whenever credentials change (an AUTH_STREAM notice); a no ends the stream.
   */
  stillValid?(): Promise<boolean>;
  /** Called once when the stream ends, by either side (a live-stream slot is given back). */
  release?(): void;
};

const encoder = new TextEncoder();
const frame = (id: number, message: LiveMessage) => encoder.encode(`id: ${id}\ndata: ${JSON.stringify(message)}\n\n`);

/** The event id a reconnecting browser says it has seen (its `Last-Event-ID` header), if any. */
export function lastEventId(request: Request): number | undefined {
  const value = Number(request.headers.get("last-event-id") ?? NaN);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * `resumeFrom`: the Last-Event-ID of a browser that reconnects. Its snapshot is sent only when a
 * change happened after that id (nothing it saw is sent twice, nothing after it is missed); the
 * changes after that come as on any stream.
 */
export function sseResponse(hub: LiveHub, source: SseSource, signal: AbortSignal, keepAliveMs: number, resumeFrom?: number): Response {
  let unsubscribe: (() => void) | undefined;
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  const close = () => {
    unsubscribe?.();
    if (keepAlive) clearInterval(keepAlive);
    source.release?.();
  };

  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      let closed = false;
      const write = (chunk: Uint8Array) => {
        if (closed) return;
        try {
          controller.enqueue(chunk);
        } catch {
          closed = true;
          close();
        }
      };
      // Changes are queued while the snapshot is read, then processed in order.
      let chain: Promise<void> = Promise.resolve();
      let snapshotAt = 0;
      const resend = async (seen = -1) => {
        snapshotAt = await source.snapshotEventId();
        if (snapshotAt <= seen) return;
        for (const message of await source.snapshot()) write(frame(snapshotAt, message));
      };
      /** Ends the stream from our side (the client left, or may no longer read). */
      const end = () => {
        closed = true;
        close();
        try {
          controller.close();
        } catch {
          // Already closed.
        }
      };
      const endIfRevoked = async () => {
        if (closed || !source.stillValid || (await source.stillValid().catch(() => true))) return;
        end();
      };
      try {
        unsubscribe = await hub.subscribe((notice) => {
          if (notice.taskId === AUTH_STREAM) {
            chain = chain.then(endIfRevoked).catch(() => undefined);
            return;
          }
          if (notice.resync) {
            chain = chain.then(() => resend()).catch(() => undefined);
            return;
          }
          if (!source.wants(notice)) return;
          chain = chain.then(async () => {
            if (closed || notice.eventId <= snapshotAt) return;
            for (const message of await source.onChange(notice)) write(frame(notice.eventId, message));
          }).catch(() => undefined);
        });
        chain = chain.then(() => resend(resumeFrom));
        await chain;
      } catch (error) {
        // A stream that never started gives its slot back.
        close();
        throw error;
      }
      keepAlive = setInterval(() => {
        write(encoder.encode(": keep-alive\n\n"));
        chain = chain.then(endIfRevoked).catch(() => undefined);
      }, keepAliveMs);
      signal.addEventListener("abort", end);
      if (signal.aborted) end();
    },
    cancel() {
      close();
    },
  });

  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    },
  });
}
