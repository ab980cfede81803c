/**
 * Agent output on the control plane: stored per batch, published live, read back for the task page.
 * Each task holds at most TASK_OUTPUT_MAX_BYTES of it: past that its oldest batches are removed, and
 * the task keeps how many lines and bytes went (the page and the download say so in their place).
 */
import { config } from "../config";
import { eq, sql } from "drizzle-orm";
import { queryRows, type Executor } from "@/db/client";
import { agentOutput, tasks } from "@/db/schema";
import type { AgentOutputCallback } from "../contracts/vm-agent";
import { publishTaskChange } from "../live/publish";
import { getSession } from "./lifecycle";

/** A lone surrogate: half a UTF-16 pair, valid in a JS string and in JSON text, refused by jsonb. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A line as jsonb can store it: U+0000 becomes "␀" (U+2400, the vm-agent does the same) and a lone
 * surrogate becomes U+FFFD, since either would fail the insert and the batch would be retried in
 * vain. Defence in depth: the contract lets both through, and a vm-agent of another version might.
 */
const storable = (line: string) => line.replaceAll("\u0000", "\u2400").replace(LONE_SURROGATE, "\ufffd");

/** The bytes a batch of lines takes as stored (its JSON text), as the database counts them. */
const storedBytes = (lines: string[]) => sql`octet_length(${JSON.stringify(lines)}::jsonb::text)`;

/**
 * Removes the task's oldest output (never `keepId`, the batch just stored) until what is left fits
 * `maxBytes`, and records what went on the task. Runs under the task row's lock (the caller's update).
 */
async function enforceQuota(tx: Executor, taskId: string, total: number, maxBytes: number, keepId: number) {
  const excess = total - maxBytes;
  if (excess <= 0) return;
  const [dropped] = await queryRows<{ bytes: string | number; lines: string | number }>(
    tx,
    sql`with ordered as (
          select id, bytes, sum(bytes) over (order by id) as running from agent_output where task_id = ${taskId} and id <> ${keepId}
        ), doomed as (
          delete from agent_output a using ordered o where a.id = o.id and o.running - o.bytes < ${excess}
          returning a.bytes, jsonb_array_length(a.lines) as n
        )
        select coalesce(sum(bytes), 0) as bytes, coalesce(sum(n), 0) as lines from doomed`,
  );
  const bytes = Number(dropped?.bytes ?? 0);
  const lines = Number(dropped?.lines ?? 0);
  if (bytes === 0) return;
  await tx
    .update(tasks)
    .set({
      outputBytes: sql`${tasks.outputBytes} - ${bytes}`,
      outputDroppedBytes: sql`${tasks.outputDroppedBytes} + ${bytes}`,
      outputDroppedLines: sql`${tasks.outputDroppedLines} + ${lines}`,
    })
    .where(eq(tasks.id, taskId));
}

/** Stores one batch; a batch already stored (same session and offset) is a no-op. The task's output stays within `maxTaskBytes`. */
export async function recordAgentOutput(db: Executor, sessionId: string, body: AgentOutputCallback, maxTaskBytes: number) {
  return db.transaction(async (tx) => {
    const session = await getSession(tx, sessionId);
    if (!session) return { outcome: "ignored" as const };
    const lines = body.lines.map(storable);
    const inserted = await tx
      .insert(agentOutput)
      .values({ sessionId, taskId: session.taskId, turn: body.turn, offset: body.offset, lines, bytes: storedBytes(lines) })
      .onConflictDoNothing()
      .returning({ id: agentOutput.id, bytes: agentOutput.bytes });
    const batch = inserted[0];
    if (!batch) return { outcome: "duplicate" as const };
    // The task row's lock orders the batches of one task: each sees the total the one before left.
    const [task] = await tx
      .update(tasks)
      .set({ outputBytes: sql`${tasks.outputBytes} + ${batch.bytes}` })
      .where(eq(tasks.id, session.taskId))
      .returning({ outputBytes: tasks.outputBytes });
    if (task) await enforceQuota(tx, session.taskId, task.outputBytes, maxTaskBytes, batch.id);
    await publishTaskChange(tx, session.taskId, "output");
    return { outcome: "applied" as const };
  });
}

/** A task view carries at most this much of the newest output (bytes as stored), however few lines that is. */
export const outputViewMaxBytes = () => config().TASK_VIEW_OUTPUT_MAX_BYTES;

/** The newest `maxLines` lines of a task's agent output, oldest first, read up to TASK_VIEW_OUTPUT_MAX_BYTES. */
export async function taskOutput(db: Executor, taskId: string, maxLines: number, sessionId?: string): Promise<{ lines: string[]; truncated: boolean }> {
  // One attempt's output: its session's (a retried task has one session per attempt).
  const session = sessionId ? sql` and session_id = ${sessionId}` : sql``;
  const rows = await queryRows<{ lines: string[] | null }>(
    db,
    sql`select case when running - bytes < ${outputViewMaxBytes()} then lines end as lines from (
          select lines, bytes, sum(bytes) over (order by turn desc, "offset" desc) as running
          from agent_output where task_id = ${taskId}${session} order by turn desc, "offset" desc limit ${maxLines}
        ) newest`,
  );
  const kept = rows.filter((row): row is { lines: string[] } => row.lines !== null);
  const newestFirst = kept.flatMap((row) => [...row.lines].reverse());
  // Each batch holds at least one line, so a full page of batches may have older ones behind it.
  return { lines: newestFirst.slice(0, maxLines).reverse(), truncated: newestFirst.length > maxLines || rows.length === maxLines || kept.length < rows.length };
}
