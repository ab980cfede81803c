/** A task's whole agent output for its owner, one attempt at a time: a page of it, or all of it to download. */
import { asc, eq, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { agentSessions, taskAttempts } from "@/db/schema";
import type { TaskOutputPage, TaskOutputQuery } from "../contracts/api";
import { currentOutputScope, droppedNotice, droppedOutput, outputLines, outputPage, type OutputScope } from "../sessions/output-reads";
import { getTask } from "./queries";

const EMPTY_PAGE = { batches: [], batchCount: 0, more: false };
const DOWNLOADS = {
  text: { extension: "txt", contentType: "text/plain; charset=utf-8" },
  ndjson: { extension: "ndjson", contentType: "application/x-ndjson; charset=utf-8" },
} as const;

/** Which rows hold attempt `n` (1-based; the current one when unset); null: that attempt has no output. */
async function attemptScope(db: Executor, taskId: string, workspaceId: string | null, n: number | undefined) {
  const earlier = await db.select({ sessionId: taskAttempts.sessionId }).from(taskAttempts).where(eq(taskAttempts.taskId, taskId)).orderBy(asc(taskAttempts.id));
  const current = earlier.length + 1;
  const attempt = n ?? current;
  if (attempt > current) return { outcome: "no_attempt" as const, attempts: current };
  if (attempt < current) {
    const sessionId = earlier[attempt - 1]?.sessionId;
    return { outcome: "found" as const, attempt, scope: sessionId ? { taskId, sessionId } : null };
  }
  const [session] = workspaceId ? await db.select({ id: agentSessions.id }).from(agentSessions).where(eq(agentSessions.workspaceId, workspaceId)).limit(1) : [];
  return { outcome: "found" as const, attempt, scope: currentOutputScope(taskId, earlier.length > 0, session?.id) };
}

/** One attempt's output; `attempt` names it on every ndjson line when the file holds several. */
async function* downloadText(db: Executor, scope: OutputScope | null, format: "text" | "ndjson", attempt?: number): AsyncGenerator<string> {
  if (!scope) return;
  const of = attempt === undefined ? {} : { attempt };
  // Output past the task's quota lost its oldest lines: the file says so where they were.
  const dropped = await droppedOutput(db, scope.taskId);
  if (dropped) yield format === "text" ? `${droppedNotice(dropped)}\n` : `${JSON.stringify({ ...of, turn: null, line: droppedNotice(dropped), dropped })}\n`;
  for await (const { turn, lines } of outputLines(db, scope)) {
    yield format === "text" ? lines.map((line) => `${line}\n`).join("") : lines.map((line) => `${JSON.stringify({ ...of, turn, line })}\n`).join("");
  }
}

/** Every attempt's output in order, each under a line that names it. */
async function* downloadAll(db: Executor, taskId: string, workspaceId: string | null, format: "text" | "ndjson"): AsyncGenerator<string> {
  const [{ count } = { count: 0 }] = await db.select({ count: sql<number>`count(*)::int` }).from(taskAttempts).where(eq(taskAttempts.taskId, taskId));
  for (let attempt = 1; attempt <= count + 1; attempt++) {
    const found = await attemptScope(db, taskId, workspaceId, attempt);
    if (found.outcome !== "found") continue;
    if (format === "text") yield `=== attempt ${attempt} ===\n`;
    yield* downloadText(db, found.scope, format, attempt);
  }
}

export async function readTaskOutput(db: Executor, taskId: string, ownerId: string, query: TaskOutputQuery) {
  const task = await getTask(db, taskId);
  if (!task || task.userId !== ownerId) return { outcome: "not_found" as const };
  if (query.attempt === "all") {
    if (query.format === "json") return { outcome: "all_needs_download" as const };
    const { extension, contentType } = DOWNLOADS[query.format];
    return { outcome: "download" as const, filename: `task-${taskId}-all-attempts-output.${extension}`, contentType, chunks: downloadAll(db, taskId, task.workspaceId, query.format) };
  }
  const found = await attemptScope(db, taskId, task.workspaceId, query.attempt);
  if (found.outcome === "no_attempt") return found;
  const { attempt, scope } = found;
  if (query.format === "json") {
    const page: TaskOutputPage = scope
      ? { attempt, ...(await outputPage(db, scope, query.after, query.limit)), dropped: await droppedOutput(db, taskId) }
      : { attempt, ...EMPTY_PAGE, after: query.after, dropped: null };
    return { outcome: "page" as const, page };
  }
  const { extension, contentType } = DOWNLOADS[query.format];
  return { outcome: "download" as const, filename: `task-${taskId}-attempt-${attempt}-output.${extension}`, contentType, chunks: downloadText(db, scope, query.format) };
}
