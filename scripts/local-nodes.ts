/**
 * On Ctrl+C the runner stops the local nodes that have no work, so a stopped system leaves no
 * idle vm-agents behind; a node that is creating or running a workspace keeps running (its agents
 * keep working in tmux) and the next start adopts it. Each local node says where it serves in
 * `<dataDir>/nodes/<nodeId>/node.json`; its own `GET /health` (no auth) says how many workspaces
 * it holds.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { HealthResponse } from "../lib/contracts/vm-agent";
import { isVmAgentProcess, readLocalNodeRecord } from "../lib/nodes/providers/local";
import { stopProcessGroup } from "./procfs";

export type IdleStopResult = {
  /** Node ids whose vm-agent was stopped. */
  stopped: string[];
  /** Node ids left running: they hold workspaces. */
  busy: string[];
  /** Node ids left running: their vm-agent runs but did not answer in time (never stopped blind). */
  unanswered: string[];
};

export type IdleStopOptions = {
  dataDir: string;
  /** How long each node gets to answer `/health`. */
  healthTimeoutMs?: number;
  /** SIGTERM, then SIGKILL after this long. */
  graceMs?: number;
  log?: (line: string) => void;
};

async function workspacesOf(endpoint: string, timeoutMs: number): Promise<number | undefined> {
  try {
    const response = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return undefined;
    return HealthResponse.parse(await response.json()).workspaces;
  } catch {
    return undefined;
  }
}

const killTmuxServer = (nodeId: string) =>
  new Promise<void>((resolve) => execFile("tmux", ["-L", `acp-${nodeId}`, "kill-server"], () => resolve()));

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The one line the runner prints; empty when there was no running local node. */
export function describeIdleStop({ stopped, busy, unanswered }: IdleStopResult): string {
  const parts: string[] = [];
  if (stopped.length > 0) parts.push(`Stopped ${count(stopped.length, "idle local node", "idle local nodes")}`);
  if (busy.length > 0) parts.push(`${count(busy.length, "node with work keeps", "nodes with work keep")} running`);
  if (unanswered.length > 0) {
    parts.push(`${count(unanswered.length, "node that did not answer keeps", "nodes that did not answer keep")} running`);
  }
  if (parts.length === 0) return "";
  const line = parts.join("; ");
  return `${line[0]!.toUpperCase()}${line.slice(1)}.`;
}

export async function stopIdleLocalNodes(options: IdleStopOptions): Promise<IdleStopResult> {
  const nodesDir = path.join(path.resolve(options.dataDir), "nodes");
  const result: IdleStopResult = { stopped: [], busy: [], unanswered: [] };
  const nodeIds = fs.existsSync(nodesDir) ? fs.readdirSync(nodesDir) : [];
  await Promise.all(
    nodeIds.map(async (nodeId) => {
      const record = readLocalNodeRecord(path.join(nodesDir, nodeId));
      if (!record || !isVmAgentProcess(record.pid, nodeId)) return;
      const workspaces = await workspacesOf(record.endpoint, options.healthTimeoutMs ?? 2_000);
      if (workspaces === undefined) return void result.unanswered.push(nodeId);
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
