/**
 * Live updates over server-sent events. Each hook opens one EventSource, writes every message into
 * the React Query cache and closes it on unmount. The browser reconnects on its own (resuming with
 * Last-Event-ID); when it gives up (an error answer), the hook opens a new stream with backoff.
 */
import { useEffect, useEffectEvent, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { LiveMessage, type ErrorKind } from "@/lib/contracts/api";
import { liveUrls } from "./api";
import { applyLiveMessage, writeLiveErrors, writeLiveNodes } from "./cache";

/** `offline`: no stream is wanted (e.g. the task does not exist). */
export type LiveConnection = "connecting" | "live" | "reconnecting" | "offline";

const MAX_BACKOFF_MS = 30_000;

function parseMessage(data: unknown): LiveMessage | undefined {
  if (typeof data !== "string") return undefined;
  try {
    const parsed = LiveMessage.safeParse(JSON.parse(data));
    if (parsed.success) return parsed.data;
  } catch {
    // Not JSON; reported below.
  }
  console.warn("live: ignored a message that does not match the contract");
  return undefined;
}

/** Opens `url` as an EventSource while it is not null; returns the connection state. */
export function useEventSource(url: string | null, onMessage: (message: LiveMessage) => void): LiveConnection {
  const [connection, setConnection] = useState<LiveConnection>("connecting");
  const deliver = useEffectEvent((data: unknown) => {
    const message = parseMessage(data);
    if (message) onMessage(message);
  });

  useEffect(() => {
    if (url === null) return;
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let disposed = false;

    const connect = () => {
      source = new EventSource(url);
      source.onopen = () => {
        attempt = 0;
        setConnection("live");
      };
      source.onmessage = (event: MessageEvent) => deliver(event.data);
      source.onerror = () => {
        if (disposed) return;
        setConnection("reconnecting");
        // CONNECTING: the browser retries by itself. CLOSED: it gave up, so start a new stream later.
        if (source?.readyState === EventSource.CLOSED) {
          source.close();
          retry = setTimeout(connect, Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempt++));
        }
      };
    };

    setConnection("connecting");
    connect();
    return () => {
      disposed = true;
      clearTimeout(retry);
      source?.close();
    };
  }, [url]);

  return url === null ? "offline" : connection;
}

/** Streams every task change (`GET /api/events`) into `["tasks"]` and `["task", id]`. */
export function useLiveTasks(): LiveConnection {
  const client = useQueryClient();
  return useEventSource(liveUrls.tasks(), (message) => applyLiveMessage(client, message));
}

/** Streams one task (`GET /api/tasks/{id}/events`) into `["task", id]` while `enabled`. */
export function useLiveTask(id: string, { enabled = true }: { enabled?: boolean } = {}): LiveConnection {
  const client = useQueryClient();
  return useEventSource(enabled ? liveUrls.task(id) : null, (message) => {
    if (message.type === "task" && message.task.id !== id) return;
    applyLiveMessage(client, message);
  });
}

/** Streams the node list (`GET /api/nodes/events`) into `["nodes", {all}]`. */
export function useLiveNodes(all: boolean): LiveConnection {
  const client = useQueryClient();
  return useEventSource(liveUrls.nodes(all), (message) => {
    if (message.type === "nodes") writeLiveNodes(client, all, message.nodes);
  });
}

/** Streams the newest errors of `kind` (`GET /api/errors/events`) into `["errors", {kind}]`. */
export function useLiveErrors(kind: ErrorKind | null): LiveConnection {
  const client = useQueryClient();
  return useEventSource(liveUrls.errors(kind), (message) => {
    if (message.type === "errors") writeLiveErrors(client, kind, { errors: message.errors, counts: message.counts });
  });
}
