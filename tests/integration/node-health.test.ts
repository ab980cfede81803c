/**
 * Node health against real vm-agents: a warm node whose daemon died (a reboot) or stopped
 * answering is never given a task; a daemon killed under a working agent is restarted and the task
 * completes; a node lost under a working agent fails its task at once, naming the node.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { nodes } from "@/db/schema";
import { readLocalNodeRecord } from "@/lib/nodes/providers/local";
import { makeRepo } from "../harness/git";
import { GATED_AGENT_COMMAND, newGate, untilAgentWaits } from "../harness/gated-agent";
import { untilFinished } from "../harness/live-client";
import { startTestSystem, type TestSystem } from "../harness/test-system";

let system: TestSystem;
const stopped = new Set<number>();

beforeAll(async () => {
  system = await startTestSystem({
    SCRIPT_AGENT_COMMAND: GATED_AGENT_COMMAND,
    NODE_WARM_TIMEOUT: "10m",
    HEARTBEAT_INTERVAL: "1s",
    HEARTBEAT_STALE_AFTER: "3s",
    NODE_LOST_AFTER: "3s",
    NODE_MONITOR_INTERVAL: "500ms",
  });
});
afterAll(async () => {
  for (const pid of stopped) spawnSync("kill", ["-CONT", `-${pid}`]);
  await system?.stop();
});

async function run(prompt: string) {
  const { status, body } = await system.api("POST", "/api/tasks", { repository: makeRepo(), prompt });
  expect(status, JSON.stringify(body)).toBe(202);
  return body.taskId as string;
}

const daemon = (nodeId: string) => readLocalNodeRecord(path.join(system.dataDir, "nodes", nodeId))!;
const nodeRow = async (nodeId: string) => (await system.database.db.select().from(nodes).where(eq(nodes.id, nodeId)))[0]!;

/** A reboot: the vm-agent and every agent of the node are gone. */
function reboot(nodeId: string) {
  process.kill(-daemon(nodeId).pid, "SIGKILL");
  spawnSync("tmux", ["-L", `acp-${nodeId}`, "kill-server"]);
}

async function untilNode(nodeId: string, predicate: (row: Awaited<ReturnType<typeof nodeRow>>) => boolean, what: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const row = await nodeRow(nodeId);
    if (predicate(row)) return row;
    if (Date.now() > deadline) throw new Error(`node ${nodeId} never became ${what}: ${JSON.stringify(row)}`);
    await new Promise((r) => setTimeout(r, 100)); // the database has no event to wait on from the test's side
  }
}

async function completedTask(what: string) {
  const taskId = await run(newGate(what, true).prompt);
  const { done } = await untilFinished(system, taskId, 90_000);
  expect(done.status, done.error ?? "").toBe("completed");
  return done;
}


describe("a warm node", () => {
  it("whose daemon died (a reboot) is never selected: the next task runs on a new node and the dead one is destroyed", async () => {
    const first = await completedTask("Leaves a warm node");
    const warm = first.node!.id;
    expect((await nodeRow(warm)).warmSince).not.toBeNull();
    reboot(warm);
    const second = await completedTask("Runs after the reboot");
    expect(second.node!.id).not.toBe(warm);
    await untilNode(warm, (n) => n.status === "stopped", "stopped");
  });

  it("that stops answering is skipped by the probe before it is claimed", async () => {
    const first = await completedTask("Leaves a node that will hang");
    const hung = first.node!.id;
    const { pid } = daemon(hung);
    process.kill(-pid, "SIGSTOP");
    stopped.add(pid);
    const second = await completedTask("Runs beside the hung node");
    expect(second.node!.id).not.toBe(hung);
    // Idle and not answering, it is destroyed (the monitor would have found it lost without heartbeats).
    const row = await untilNode(hung, (n) => n.status === "stopped", "stopped");
    expect(row.errorMessage).toMatch(/did not answer its probe when task .* was placed|no heartbeat .* does not answer/);
  });
});

describe("a node under a working agent", () => {
  it("whose vm-agent is killed gets it restarted; the agent keeps working and the task completes, started once", async () => {
    const gate = newGate("The daemon dies mid-run");
    const taskId = await run(gate.prompt);
    const working = await untilAgentWaits(system, taskId);
    const nodeId = working.node!.id;
    process.kill(daemon(nodeId).pid, "SIGKILL");
    await untilNode(nodeId, (n) => n.restartCount === 1 && n.health === "healthy", "restarted");
    gate.open();
    const { done } = await untilFinished(system, taskId, 60_000);
    expect(done.status, done.error ?? "").toBe("completed");
    expect(done.pushed).toBe(true);
    const effects = system.sideEffects();
    expect(effects.launches.get(`s_${done.workspace!.id.replace(/^w_/, "")}`)).toBe(1);
    expect(effects.daemons.get(nodeId)).toBe(2);
  });

  it("that is lost fails its task at once, naming the node and what was lost", async () => {
    const gate = newGate("The node is lost mid-run");
    const taskId = await run(gate.prompt);
    const working = await untilAgentWaits(system, taskId);
    const nodeId = working.node!.id;
    const { pid } = daemon(nodeId);
    process.kill(-pid, "SIGSTOP");
    stopped.add(pid);
    const { done } = await untilFinished(system, taskId, 60_000);
    expect(done.status).toBe("failed");
    expect(done.error).toContain(`node ${nodeId} lost`);
    expect(done.error).toMatch(/while its agent was working.*not pushed is gone/);
    await untilNode(nodeId, (n) => n.status === "stopped", "stopped");
  });
});
