/**
 * The write side of the live channel. Every visible change is written first, then published here
 * inside the same transaction: a `live_events` row (its id is the SSE event id) and a NOTIFY that
 * Postgres delivers only when the transaction commits.
 */
import { sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { liveEvents } from "@/db/schema";

export const LIVE_CHANNEL = "live";

export type LiveKind = "created" | "status" | "step" | "workspace" | "node" | "result" | "output" | "error" | "auth" | "message";

/** Live keys that are not tasks: the nodes page and the errors page each have one stream. */
export const NODES_STREAM = "nodes";
export const ERRORS_STREAM = "errors";
/** Not a page: a credential was revoked, so every live stream checks its caller again. */
export const AUTH_STREAM = "auth";

async function publish(executor: Executor, key: string, kind: LiveKind) {
  const [row] = await executor.insert(liveEvents).values({ taskId: key, kind }).returning({ id: liveEvents.id });
  await executor.execute(sql`select pg_notify(${LIVE_CHANNEL}, ${`${key}:${row?.id ?? 0}`})`);
}

export async function publishTaskChange(executor: Executor, taskId: string, kind: LiveKind): Promise<void> {
  await publish(executor, taskId, kind);
}

/** A node's status, health or load changed (the nodes page). */
export async function publishNodeChange(executor: Executor): Promise<void> {
  await publish(executor, NODES_STREAM, "node");
}

/** An error, recovery, stuck task or orphan was recorded (the errors page). */
export async function publishErrorRecorded(executor: Executor): Promise<void> {
  await publish(executor, ERRORS_STREAM, "error");
}

/** A token was revoked (or a session ended): open streams re-check their callers at once. */
export async function publishCredentialsChanged(executor: Executor): Promise<void> {
  await publish(executor, AUTH_STREAM, "auth");
}

/** Parses a NOTIFY payload written by publishTaskChange. */
export function parseLivePayload(payload: string): { taskId: string; eventId: number } | undefined {
  const at = payload.lastIndexOf(":");
  if (at <= 0) return undefined;
  const eventId = Number(payload.slice(at + 1));
  return Number.isFinite(eventId) ? { taskId: payload.slice(0, at), eventId } : undefined;
}
