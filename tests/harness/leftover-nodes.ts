/** The local nodes a system started, read from its data folder, and stopping those it left up (a warm node, or a task a failed test left open). */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { defaultTmuxSocket } from "../../lib/contracts/node-layout";

/** Every local node under `dataDir`, with the pid its daemon was started with (none when it never started). */
export function localNodes(dataDir: string): { nodeId: string; pid?: number }[] {
  const nodesDir = path.join(dataDir, "nodes");
  return (fs.existsSync(nodesDir) ? fs.readdirSync(nodesDir) : []).map((nodeId) => {
    const pidFile = path.join(nodesDir, nodeId, "vm-agent.pid");
    return fs.existsSync(pidFile) ? { nodeId, pid: Number(fs.readFileSync(pidFile, "utf8")) } : { nodeId };
  });
}

/** Stops every local node under `dataDir` that is still up: its daemon's process group, and its tmux server. */
export function stopLeftoverNodes(dataDir: string) {
  for (const { nodeId, pid } of localNodes(dataDir)) {
    if (pid !== undefined) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // Already stopped (destroyed with its task).
      }
    }
    spawnSync("tmux", ["-L", defaultTmuxSocket(nodeId), "kill-server"]);
  }
}
