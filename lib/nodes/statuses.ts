/** A node's occupancy, in SQL (the status sets are lib/contracts/statuses.ts; a list for raw SQL is db/client.ts `inList`). */
import { sql } from "drizzle-orm";

/**
 * How many slots of a node are taken: tasks placed on it whose cleanup is not done, and workspaces
 * held for a person's decision (work whose push was refused). A task holds its slot from selection
 * (so a burst never overfills a node) until its workspace is cleaned up; a held workspace until it
 * is pushed or discarded, so its node is never destroyed under it.
 */
export const occupancySql = (nodeIdColumn: ReturnType<typeof sql.raw>) =>
  sql`((select count(*)::int from tasks t where t.node_id = ${nodeIdColumn} and t.cleaned_up_at is null) + (select count(*)::int from workspaces w where w.node_id = ${nodeIdColumn} and w.held_at is not null and w.purged_at is null))`;
