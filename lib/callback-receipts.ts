/**
 * Which callback deliveries were applied (by the vm-agent's message id), so a retried one is a
 * no-op. The owners of what a callback changes (sessions, workspaces, egress refusals) record the
 * receipt in the transaction that applies it; lib/callbacks/ routes the callbacks to them.
 */
import type { Executor } from "@/db/client";
import { callbackReceipts } from "@/db/schema";

/** What a callback did: applied; a repeat of one already applied; or nothing, since its subject moved on. */
export type CallbackOutcome = "applied" | "duplicate" | "ignored";

/** Records a callback delivery; false when this message id was applied before (a retry). */
export async function firstDelivery(executor: Executor, messageId: string, kind: string): Promise<boolean> {
  const inserted = await executor
    .insert(callbackReceipts)
    .values({ messageId, kind })
    .onConflictDoNothing()
    .returning({ messageId: callbackReceipts.messageId });
  return inserted.length > 0;
}
