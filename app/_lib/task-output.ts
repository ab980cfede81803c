/**
 * An attempt's whole agent output in the browser: read once, page by page, then only what is new
 * each time the live task says more batches are stored (`output.batches`).
 */
import { useEffect } from "react";
import { useQuery, type QueryClient } from "@tanstack/react-query";
import type { OutputBatch, TaskOutputPage } from "@/lib/contracts/api";
import { fetchTaskOutput } from "./api";

/** The batches held, in place by turn and offset, and the cursor after the newest one read. */
export type HeldOutput = { batches: OutputBatch[]; after: number };

const NOTHING: HeldOutput = { batches: [], after: 0 };

export const outputKey = (taskId: string, attempt: number) => ["task-output", taskId, attempt] as const;

const byPlace = (a: OutputBatch, b: OutputBatch) => a.turn - b.turn || a.offset - b.offset || a.id - b.id;

/** Adds a page's batches to those held, each once, in place (a batch stored late sorts where it belongs). */
export function mergeBatches(held: HeldOutput, page: Pick<TaskOutputPage, "batches" | "after">): HeldOutput {
  const after = Math.max(held.after, page.after);
  const known = new Set(held.batches.map((batch) => batch.id));
  const fresh = page.batches.filter((batch) => !known.has(batch.id));
  if (fresh.length === 0) return after === held.after ? held : { ...held, after };
  return { batches: [...held.batches, ...fresh].sort(byPlace), after };
}

/** Reads what is new after the batches held; a count that says one was passed over reads all again, once. */
export async function loadOutput(read: (after: number) => Promise<TaskOutputPage>, held: HeldOutput = NOTHING): Promise<HeldOutput> {
  let reread = false;
  for (;;) {
    const page = await read(held.after);
    held = mergeBatches(held, page);
    if (page.more) continue;
    if (held.batches.length >= page.batchCount || reread) return held;
    // A batch stored after one with a later id went unseen (its delivery was retried): read it all again.
    held = NOTHING;
    reread = true;
  }
}

const outputQuery = (client: QueryClient, taskId: string, attempt: number, signal: AbortSignal) =>
  loadOutput((after) => fetchTaskOutput(taskId, { attempt, after }, signal), client.getQueryData<HeldOutput>(outputKey(taskId, attempt)));

/** The attempt's whole output; `stored` is how many batches the live task says there are. */
export function useTaskOutput(taskId: string, attempt: number, stored: number) {
  const query = useQuery({
    queryKey: outputKey(taskId, attempt),
    queryFn: ({ client, signal }) => outputQuery(client, taskId, attempt, signal),
    enabled: stored > 0,
  });
  const held = query.data?.batches.length;
  const { refetch } = query;
  useEffect(() => {
    // Only once something is held: the first read is the query's own. A read already under way is
    // joined; when it ends with fewer than `stored`, `held` changes and this asks again.
    if (held !== undefined && stored > held) void refetch({ cancelRefetch: false });
  }, [stored, held, refetch]);
  return query;
}
