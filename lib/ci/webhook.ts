/**
 * GitHub's webhooks for CI (check_run, check_suite, workflow_run, status), when GITHUB_WEBHOOK_SECRET
 * is set: each delivery is signed (X-Hub-Signature-256, an HMAC-SHA256 of the raw body with the
 * secret), and one that names a commit a task's run is watching wakes that run to look now. The
 * payload is never trusted for the verdict: the run reads CI from the API (lib/ci/watch.ts).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { and, eq, inArray, isNotNull } from "drizzle-orm";
import { z } from "zod";
import type { Executor } from "@/db/client";
import { tasks, taskTurns } from "@/db/schema";
import { RUN_TASK_STATUSES } from "../contracts/statuses";

/** The deliveries that can say a commit's CI changed. */
export const CI_WEBHOOK_EVENTS = ["check_run", "check_suite", "workflow_run", "status"] as const;

/** Whether `signature` (the X-Hub-Signature-256 header, `sha256=<hex>`) is the body's HMAC with `secret`. */
export function validSignature(secret: string, body: string, signature: string | null): boolean {
  const given = /^sha256=([0-9a-f]{64})$/i.exec(signature ?? "")?.[1];
  if (!given) return false;
  const expected = createHmac("sha256", secret).update(body, "utf8").digest();
  return timingSafeEqual(expected, Buffer.from(given, "hex"));
}

const Sha = z.string().regex(/^[0-9a-f]{40}$/);
/** Where each event carries the commit it is about (GitHub's webhook payloads). */
const CommitOf = z.union([
  z.object({ check_run: z.object({ head_sha: Sha }) }).transform((p) => p.check_run.head_sha),
  z.object({ check_suite: z.object({ head_sha: Sha }) }).transform((p) => p.check_suite.head_sha),
  z.object({ workflow_run: z.object({ head_sha: Sha }) }).transform((p) => p.workflow_run.head_sha),
  z.object({ sha: Sha, state: z.string() }).transform((p) => p.sha),
]);

/** The commit a CI delivery is about; undefined for other events or a payload without one. */
export function webhookCommit(event: string | null, payload: unknown): string | undefined {
  if (!CI_WEBHOOK_EVENTS.includes(event as (typeof CI_WEBHOOK_EVENTS)[number])) return undefined;
  const parsed = CommitOf.safeParse(payload);
  return parsed.success ? parsed.data : undefined;
}

/** The unfinished tasks whose watched turn pushed `commit`: the runs a delivery about it should wake (the caller sends `pullRequestCi`). */
export async function ciWatchers(db: Executor, commit: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ taskId: taskTurns.taskId })
    .from(taskTurns)
    .innerJoin(tasks, eq(tasks.id, taskTurns.taskId))
    .where(and(eq(taskTurns.commitSha, commit), isNotNull(taskTurns.ci), inArray(tasks.status, RUN_TASK_STATUSES)));
  return rows.map((row) => row.taskId);
}
