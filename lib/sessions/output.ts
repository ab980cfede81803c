/** Agent output on the control plane: stored per batch, published live, read back for the task page. */
import { desc, eq } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { agentOutput } from "@/db/schema";
import type { AgentOutputCallback } from "../contracts/vm-agent";
import { publishTaskChange } from "../live/publish";
import { getSession } from "./lifecycle";

/** Stores one batch; a batch already stored (same session and offset) is a no-op. */
export async function recordAgentOutput(db: Executor, sessionId: string, body: AgentOutputCallback) {
  return db.transaction(async (tx) => {
    const session = await getSession(tx, sessionId);
    if (!session) return { outcome: "ignored" as const };
    const inserted = await tx
      .insert(agentOutput)
      .values({ sessionId, taskId: session.taskId, turn: body.turn, offset: body.offset, lines: body.lines })
      .onConflictDoNothing()
      .returning({ id: agentOutput.id });
    if (!inserted.length) return { outcome: "duplicate" as const };
    await publishTaskChange(tx, session.taskId, "output");
    return { outcome: "applied" as const };
  });
}

/** The newest `maxLines` lines of a task's agent output, oldest first. */
export async function taskOutput(db: Executor, taskId: string, maxLines: number): Promise<{ lines: string[]; truncated: boolean }> {
  const rows = await db
    .select({ lines: agentOutput.lines })
    .from(agentOutput)
    .where(eq(agentOutput.taskId, taskId))
    .orderBy(desc(agentOutput.turn), desc(agentOutput.offset))
    .limit(maxLines);
  const newestFirst = rows.flatMap((row) => [...row.lines].reverse());
  // Each batch holds at least one line, so a full page of batches may have older ones behind it.
  return { lines: newestFirst.slice(0, maxLines).reverse(), truncated: newestFirst.length > maxLines || rows.length === maxLines };
}
