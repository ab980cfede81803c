/**
 * The write side of the live channel. Every visible change is written first, then published here
 * inside the same transaction: a `live_events` row (its id is the SSE event id) and a NOTIFY that
 * Postgres delivers only when the transaction commits.
 */
import { sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { liveEvents } from "@/db/schema";

export const LIVE_CHANNEL = "live";

export type LiveKind = "created" | "status" | "step" | "workspace" | "node" | "result" | "output";

export async function publishTaskChange(executor: Executor, taskId: string, kind: LiveKind): Promise<void> {
  const [row] = await executor.insert(liveEvents).values({ taskId, kind }).returning({ id: liveEvents.id });
  await executor.execute(sql`select pg_notify(${LIVE_CHANNEL}, ${`${taskId}:${row?.id ?? 0}`})`);
}

/** Parses a NOTIFY payload written by publishTaskChange. */
export function parseLivePayload(payload: string): { taskId: string; eventId: number } | undefined {
  const at = payload.lastIndexOf(":");
  if (at <= 0) return undefined;
  const eventId = Number(payload.slice(at + 1));
  return Number.isFinite(eventId) ? { taskId: payload.slice(0, at), eventId } : undefined;
}
