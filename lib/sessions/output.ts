/** Agent output on the control plane: stored per batch, published live, read back for the task page. */
import { and, desc, eq } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { agentOutput } from "@/db/schema";
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

/** Stores one batch; a batch already stored (same session and offset) is a no-op. */
export async function recordAgentOutput(db: Executor, sessionId: string, body: AgentOutputCallback) {
  return db.transaction(async (tx) => {
    const session = await getSession(tx, sessionId);
    if (!session) return { outcome: "ignored" as const };
    const inserted = await tx
      .insert(agentOutput)
      .values({ sessionId, taskId: session.taskId, turn: body.turn, offset: body.offset, lines: body.lines.map(storable) })
      .onConflictDoNothing()
      .returning({ id: agentOutput.id });
    if (!inserted.length) return { outcome: "duplicate" as const };
    await publishTaskChange(tx, session.taskId, "output");
    return { outcome: "applied" as const };
  });
}

/** The newest `maxLines` lines of a task's agent output, oldest first. */
export async function taskOutput(db: Executor, taskId: string, maxLines: number, sessionId?: string): Promise<{ lines: string[]; truncated: boolean }> {
  // One attempt's output: its session's (a retried task has one session per attempt).
  const rows = await db
    .select({ lines: agentOutput.lines })
    .from(agentOutput)
    .where(sessionId ? and(eq(agentOutput.taskId, taskId), eq(agentOutput.sessionId, sessionId)) : eq(agentOutput.taskId, taskId))
    .orderBy(desc(agentOutput.turn), desc(agentOutput.offset))
    .limit(maxLines);
  const newestFirst = rows.flatMap((row) => [...row.lines].reverse());
  // Each batch holds at least one line, so a full page of batches may have older ones behind it.
  return { lines: newestFirst.slice(0, maxLines).reverse(), truncated: newestFirst.length > maxLines || rows.length === maxLines };
}
