/**
 * The workspaces a node holds: those creating or running. The daemon counts them for its heartbeat
 * and its /health; the runner on the control plane's machine reads a local node's count from the
 * same records, since /health tells it only to a token it cannot mint.
 */
import fs from "node:fs";
import path from "node:path";
import { nodeWorkDirLayout } from "../../lib/contracts/node-layout";
import { WorkspaceRecord } from "./schemas";

export const workspaceRecordsDir = (workDir: string) => nodeWorkDirLayout(workDir).workspaceRecords;

export const isHeld = (workspace: Pick<WorkspaceRecord, "status">) => workspace.status === "creating" || workspace.status === "running";

/**
 * Counts the held workspaces in the records under `workDir`, only reading (the daemon that owns
 * them may be writing); a record that cannot be read or parsed throws.
 */
export function heldWorkspaces(workDir: string): number {
  const dir = workspaceRecordsDir(workDir);
  if (!fs.existsSync(dir)) return 0;
  let held = 0;
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith(".json") || name.startsWith(".")) continue;
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, name), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue; // deleted since the listing
      throw error;
    }
    if (isHeld(WorkspaceRecord.parse(JSON.parse(text)))) held++;
  }
  return held;
}
