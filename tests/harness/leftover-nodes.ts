/** Stopping the local nodes a system left up (a warm node, or a task a failed test left open). */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/** Stops every local node under `dataDir` that is still up: its daemon's process group, and its tmux server. */
export function stopLeftoverNodes(dataDir: string) {
  const nodesDir = path.join(dataDir, "nodes");
  for (const nodeId of fs.existsSync(nodesDir) ? fs.readdirSync(nodesDir) : []) {
    const pidFile = path.join(nodesDir, nodeId, "vm-agent.pid");
    if (fs.existsSync(pidFile)) {
      try {
        process.kill(-Number(fs.readFileSync(pidFile, "utf8")), "SIGKILL");
      } catch {
        // Already stopped (destroyed with its task).
      }
    }
    spawnSync("tmux", ["-L", `acp-${nodeId}`, "kill-server"]);
  }
}
