/**
 * A workspace's boot log on the control plane: each report its node sent while provisioning
 * (stages with their durations, the setup script's output), stored as it comes and read back in
 * the node's order for the task page. Kept with the task, after the workspace is gone.
 */
import { config } from "../config";
import { sql } from "drizzle-orm";
import { queryRows, type Executor } from "@/db/client";
import { bootLog } from "@/db/schema";
import type { BootLogView } from "../contracts/api";
import type { BootLogCallback, BootStage } from "../contracts/vm-agent";
import { publishTaskChange } from "../live/publish";
import { getWorkspace } from "./lifecycle";

/** How many of the setup output's newest lines a task view carries. */
const SETUP_LINES = 500;
/** A task view reads at most this many of the newest reports, and their setup lines up to this many bytes as stored (counted in the query). */
const BOOT_LOG_ROWS = 2000;
/** BOOT_LOG_VIEW_MAX_BYTES: the setup output one view reads (a read cap, so a chatty setup cannot make every page load heavy). */
export const bootLogReadMaxBytes = () => config().BOOT_LOG_VIEW_MAX_BYTES;

export async function recordBootLog(db: Executor, workspaceId: string, body: BootLogCallback) {
  const workspace = await getWorkspace(db, workspaceId);
  if (!workspace) return { outcome: "ignored" as const };
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(bootLog)
      .values({
        messageId: body.messageId,
        workspaceId,
        taskId: workspace.taskId,
        at: body.at,
        stages: body.stages,
        lines: body.setupOutput,
        bytes: sql`octet_length(${JSON.stringify(body.setupOutput)}::jsonb::text)`,
      })
      .onConflictDoNothing()
      .returning({ id: bootLog.id });
    if (!inserted.length) return { outcome: "duplicate" as const };
    await publishTaskChange(tx, workspace.taskId, "step");
    return { outcome: "applied" as const };
  });
}

/** The workspace's stages (the newest report of each, in the order they started) and its setup output's last lines. */
export async function bootLogView(db: Executor, workspaceId: string): Promise<BootLogView> {
  // The newest reports first, cut by count and by the bytes of their lines, then put back in order.
  const rows = await queryRows<{ stages: unknown; lines: unknown; over: boolean }>(
    db,
    sql`select stages, running - bytes >= ${bootLogReadMaxBytes()} as over,
               case when running - bytes < ${bootLogReadMaxBytes()} then lines else '[]'::jsonb end as lines from (
          select at, id, stages, lines, bytes, sum(bytes) over (order by at desc, id desc) as running
          from boot_log where workspace_id = ${workspaceId} order by at desc, id desc limit ${BOOT_LOG_ROWS + 1}
        ) newest order by at, id`,
  );
  const cut = rows.length > BOOT_LOG_ROWS;
  const stages = new Map<string, BootStage>();
  const lines: string[] = [];
  let linesCut = false;
  for (const [index, row] of rows.entries()) {
    if (cut && index === 0) continue;
    for (const stage of row.stages as BootStage[]) {
      // A stage may run twice (setup's command, then its commands): keyed by name and start.
      const key = `${stage.stage}@${stage.startedAt}`;
      const seen = stages.get(key);
      if (!seen || seen.status === "running") stages.set(key, stage);
    }
    lines.push(...(row.lines as string[]));
    linesCut ||= row.over;
  }
  return {
    stages: [...stages.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.seq - b.seq),
    setupOutput: lines.slice(-SETUP_LINES),
    setupOutputTruncated: lines.length > SETUP_LINES || linesCut || cut,
  };
}
