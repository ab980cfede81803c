/**
 * The shape of a lifecycle's "every move, against Postgres" test: each move, run on a row in every
 * status, moves exactly the rows its `movesFrom` names (each a move the transition table allows)
 * and leaves every other status as it was.
 */
import { expect, it } from "vitest";

export type LifecycleMove<S extends string, R> = { name: string; to: S; movesFrom: S[]; run: (row: R) => Promise<unknown> };

export function itMovesAsTheTableSays<S extends string, R>(options: {
  statuses: readonly S[];
  moves: LifecycleMove<S, R>[];
  /** A new row in `status`. */
  rowIn: (status: S) => Promise<R>;
  statusOf: (row: R) => Promise<S>;
  canTransition: (from: S, to: S) => boolean;
}) {
  for (const move of options.moves) {
    it(`${move.name} moves to ${move.to} from ${move.movesFrom.join(", ")} (each in the table), and leaves every other status`, async () => {
      for (const from of options.statuses) {
        const row = await options.rowIn(from);
        await move.run(row);
        const after = await options.statusOf(row);
        const moved = move.movesFrom.includes(from);
        expect({ from, after }).toEqual({ from, after: moved ? move.to : from });
        if (moved) expect(options.canTransition(from, move.to)).toBe(true);
      }
    });
  }
}
