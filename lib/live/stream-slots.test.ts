/** Live-stream slots: a person's streams past MAX_LIVE_STREAMS_PER_USER are refused, and a stream that ends, by either side, gives its slot back. */
import { describe, expect, it } from "vitest";
import type { Database } from "@/db/client";
import { LiveHub } from "./hub";
import { sseResponse } from "./sse";
import { openStreams, StreamLimitError, takeStreamSlot } from "./stream-slots";

/** A hub whose channel is always up (the slots are what is tested, not the channel). */
const hub = () => new LiveHub({ listen: async () => () => undefined } as unknown as Database);

const source = (release: () => void) => ({
  wants: () => false,
  snapshot: async () => [],
  onChange: async () => [],
  snapshotEventId: async () => 0,
  release,
});

describe("live-stream slots", () => {
  it("refuses a person's stream past the limit, not another person's, and frees a slot once however often it is released", () => {
    const first = takeStreamSlot("ann", 2);
    takeStreamSlot("ann", 2);
    expect(() => takeStreamSlot("ann", 2)).toThrow(StreamLimitError);
    expect(() => takeStreamSlot("ann", 2)).toThrow(/MAX_LIVE_STREAMS_PER_USER/);
    expect(openStreams("ann")).toBe(2);
    expect(() => takeStreamSlot("ben", 2)).not.toThrow();
    first();
    first();
    expect(openStreams("ann")).toBe(1);
    expect(() => takeStreamSlot("ann", 2)).not.toThrow();
    expect(() => takeStreamSlot("ann", 2)).toThrow(StreamLimitError);
  });

  it("a stream holds its slot while open and gives it back when its client leaves or cancels", async () => {
    const streams = [new AbortController(), new AbortController()];
    const responses = streams.map((controller) => sseResponse(hub(), source(takeStreamSlot("cat", 2)), controller.signal, 60_000));
    const readers = responses.map((response) => response.body!.getReader());
    expect(openStreams("cat")).toBe(2);
    expect(() => takeStreamSlot("cat", 2)).toThrow(StreamLimitError);

    streams[0]!.abort();
    await expect.poll(() => openStreams("cat")).toBe(1);
    await readers[1]!.cancel();
    await expect.poll(() => openStreams("cat")).toBe(0);
  });

  it("a stream whose channel cannot start gives its slot back", async () => {
    const broken = new LiveHub({ listen: async () => Promise.reject(new Error("LISTEN failed")) } as unknown as Database);
    const response = sseResponse(broken, source(takeStreamSlot("dan", 1)), new AbortController().signal, 60_000);
    await expect(response.body!.getReader().read()).rejects.toThrow(/LISTEN failed/);
    expect(openStreams("dan")).toBe(0);
  });
});
