/**
 * On Ctrl+C the runner stops the local nodes that have no work, so a stopped system leaves no
 * idle vm-agents behind; a node that is creating or running a workspace keeps running (its agents
 * keep working in tmux) and the next start adopts it. Each local node says where it serves in
 * `<dataDir>/nodes/<nodeId>/node.json`, and its records in its work folder say which workspaces it
 * holds (its `GET /health` tells that only to a token of the control plane, which the runner has not).
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { isVmAgentProcess, localNodeWorkDir, readLocalNodeRecord } from "../lib/nodes/providers/local";
import { heldWorkspaces } from "../vm-agent/state/held";
import { stopProcessGroup } from "./procfs";

export type IdleStopResult = {
  /** Node ids whose vm-agent was stopped. */
  stopped: string[];
  /** Node ids left running: they hold workspaces. */
  busy: string[];
  /** Node ids left running: their vm-agent runs but its records could not be read (never stopped blind). */
  unreadable: string[];
};

export type IdleStopOptions = {
  dataDir: string;
  /** SIGTERM, then SIGKILL after this long. */
  graceMs?: number;
  log?: (line: string) => void;
};

function workspacesOf(nodeDir: string): number | undefined {
  try {
    return heldWorkspaces(localNodeWorkDir(nodeDir));
  } catch {
    return undefined;
  }
}

const killTmuxServer = (nodeId: string) =>
  new Promise<void>((resolve) => execFile("tmux", ["-L", `acp-${nodeId}`, "kill-server"], () => resolve()));

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The one line the runner prints; empty when there was no running local node. */
export function describeIdleStop({ stopped, busy, unreadable }: IdleStopResult): string {
  const parts: string[] = [];
  if (stopped.length > 0) parts.push(`Stopped ${count(stopped.length, "idle local node", "idle local nodes")}`);
  if (busy.length > 0) parts.push(`${count(busy.length, "node with work keeps", "nodes with work keep")} running`);
  if (unreadable.length > 0) {
    parts.push(`${count(unreadable.length, "node whose state could not be read keeps", "nodes whose state could not be read keep")} running`);
  }
  if (parts.length === 0) return "";
  const line = parts.join("; ");
  return `${line[0]!.toUpperCase()}${line.slice(1)}.`;
}

export async function stopIdleLocalNodes(options: IdleStopOptions): Promise<IdleStopResult> {
  const nodesDir = path.join(path.resolve(options.dataDir), "nodes");
  const result: IdleStopResult = { stopped: [], busy: [], unreadable: [] };
  const nodeIds = fs.existsSync(nodesDir) ? fs.readdirSync(nodesDir) : [];
  await Promise.all(
    nodeIds.map(async (nodeId) => {
      const record = readLocalNodeRecord(path.join(nodesDir, nodeId));
      if (!record || !isVmAgentProcess(record.pid, nodeId)) return;
      const workspaces = workspacesOf(path.join(nodesDir, nodeId));
      if (workspaces === undefined) return void result.unreadable.push(nodeId);
      if (workspaces > 0) return void result.busy.push(nodeId);
      await stopProcessGroup(record.pid, options.graceMs ?? 5_000);
      await killTmuxServer(nodeId);
      result.stopped.push(nodeId);
    }),
  );
  const line = describeIdleStop(result);
  if (line) (options.log ?? ((l: string) => console.error(l)))(line);
  return result;
}
