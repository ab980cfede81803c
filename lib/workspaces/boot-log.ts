/**
 * A workspace's boot log on the control plane: each report its node sent while provisioning
 * (stages with their durations, the setup script's output), stored as it comes and read back in
 * the node's order for the task page. Kept with the task, after the workspace is gone.
 */
import { asc, eq } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { bootLog } from "@/db/schema";
import type { BootLogView } from "../contracts/api";
import type { BootLogCallback, BootStage } from "../contracts/vm-agent";
import { publishTaskChange } from "../live/publish";
import { getWorkspace } from "./lifecycle";

/** How many of the setup output's newest lines a task view carries. */
const SETUP_LINES = 500;

export async function recordBootLog(db: Executor, workspaceId: string, body: BootLogCallback) {
  const workspace = await getWorkspace(db, workspaceId);
  if (!workspace) return { outcome: "ignored" as const };
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(bootLog)
      .values({ messageId: body.messageId, workspaceId, taskId: workspace.taskId, at: body.at, stages: body.stages, lines: body.setupOutput })
      .onConflictDoNothing()
      .returning({ id: bootLog.id });
    if (!inserted.length) return { outcome: "duplicate" as const };
    await publishTaskChange(tx, workspace.taskId, "step");
    return { outcome: "applied" as const };
  });
}

/** The workspace's stages (the newest report of each, in the order they started) and its setup output's last lines. */
export async function bootLogView(db: Executor, workspaceId: string): Promise<BootLogView> {
  const rows = await db.select({ stages: bootLog.stages, lines: bootLog.lines }).from(bootLog).where(eq(bootLog.workspaceId, workspaceId)).orderBy(asc(bootLog.at), asc(bootLog.id));
  const stages = new Map<string, BootStage>();
  const lines: string[] = [];
  for (const row of rows) {
    for (const stage of row.stages as BootStage[]) {
      // A stage may run twice (setup's command, then its commands): keyed by name and start.
      const key = `${stage.stage}@${stage.startedAt}`;
      const seen = stages.get(key);
      if (!seen || seen.status === "running") stages.set(key, stage);
    }
    lines.push(...(row.lines as string[]));
  }
  return {
    stages: [...stages.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.seq - b.seq),
    setupOutput: lines.slice(-SETUP_LINES),
    setupOutputTruncated: lines.length > SETUP_LINES,
  };
}
