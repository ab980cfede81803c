import { describe, expect, it } from "vitest";
import type { OutputBatch, TaskOutputPage } from "@/lib/contracts/api";
import { loadOutput, mergeBatches } from "./task-output";

const batch = (id: number, turn: number, offset: number): OutputBatch => ({ id, turn, offset, lines: [`line ${id}`] });

describe("mergeBatches", () => {
  it("puts a batch stored late where it belongs (by turn, then offset) and keeps each batch once", () => {
    const held = mergeBatches({ batches: [], after: 0 }, { batches: [batch(1, 1, 0), batch(2, 2, 500)], after: 2 });
    const merged = mergeBatches(held, { batches: [batch(3, 1, 100), batch(2, 2, 500)], after: 3 });
    expect(merged).toEqual({ batches: [batch(1, 1, 0), batch(3, 1, 100), batch(2, 2, 500)], after: 3 });
    // The same objects: what was read of a batch before is reused.
    expect(merged.batches[0]).toBe(held.batches[0]);
  });

  it("returns what is held when a page brings nothing new", () => {
    const held = { batches: [batch(1, 1, 0)], after: 1 };
    expect(mergeBatches(held, { batches: [], after: 1 })).toBe(held);
  });
});

describe("loadOutput", () => {
  /** A server holding `stored` (by id); `visible` hides ids a page must not see yet. */
  function server(stored: OutputBatch[], hidden: Set<number> = new Set()) {
    const reads: number[] = [];
    const read = async (after: number): Promise<TaskOutputPage> => {
      reads.push(after);
      const seen = stored.filter((b) => !hidden.has(b.id));
      const next = seen.filter((b) => b.id > after).slice(0, 2);
      return { attempt: 1, batches: next, batchCount: seen.length, after: next.at(-1)?.id ?? after, more: seen.some((b) => b.id > (next.at(-1)?.id ?? after)) };
    };
    return { read, reads };
  }

  it("reads page after page, then later only what is new", async () => {
    const stored = [batch(1, 1, 0), batch(2, 1, 10), batch(3, 1, 20)];
    const { read, reads } = server(stored);
    const held = await loadOutput(read);
    expect(held.batches.map((b) => b.id)).toEqual([1, 2, 3]);
    expect(reads).toEqual([0, 2]);
    stored.push(batch(4, 2, 30));
    const more = await loadOutput(read, held);
    expect(more.batches.map((b) => b.id)).toEqual([1, 2, 3, 4]);
    expect(reads).toEqual([0, 2, 3]);
  });

  it("reads everything again when the count says a batch was passed over (stored with an earlier id, committed later)", async () => {
    const stored = [batch(1, 1, 0), batch(2, 1, 10), batch(3, 1, 20)];
    const hidden = new Set([2]);
    const { read, reads } = server(stored, hidden);
    const held = await loadOutput(read);
    expect(held.batches.map((b) => b.id)).toEqual([1, 3]);
    hidden.clear();
    const healed = await loadOutput(read, held);
    expect(healed.batches.map((b) => b.id)).toEqual([1, 2, 3]);
    expect(reads.slice(-3)).toEqual([3, 0, 2]);
  });
});
