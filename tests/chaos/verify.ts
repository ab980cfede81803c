/**
 * What every chaos run must end with, checked from the database and the vm-agents' own logs:
 * each task in the expected outcome, each side effect done once (one workspace created per
 * workspace, one agent start per session), nothing left running, no node over capacity.
 */
import { inArray } from "drizzle-orm";
import { agentSessions, nodes, tasks, workspaces } from "@/db/schema";
import type { TestSystem } from "../harness/test-system";

export type RunResult = { completed: number; tasks: number; duplicated: number; problems: string[] };

export async function verifyRun(
  system: TestSystem,
  taskIds: string[],
  options: { maxPerNode: number; expect?: "completed" | "failed"; /** Agent turns per session (a follow-up launches the agent again). */ turns?: number },
): Promise<RunResult> {
  const db = system.database.db;
  const problems: string[] = [];
  const rows = await db.select().from(tasks).where(inArray(tasks.id, taskIds));
  const expected = options.expect ?? "completed";
  for (const task of rows) {
    if (task.status !== expected) problems.push(`task ${task.id} is ${task.status}${task.errorMessage ? `: ${task.errorMessage}` : ""}`);
    if (task.status === "failed" && !task.errorMessage) problems.push(`task ${task.id} failed without a reason`);
    if (!task.cleanedUpAt) problems.push(`task ${task.id} was not cleaned up`);
  }
  const held = await db.select().from(workspaces).where(inArray(workspaces.taskId, taskIds));
  const sessions = await db.select().from(agentSessions).where(inArray(agentSessions.taskId, taskIds));
  const effects = system.sideEffects();
  let duplicated = 0;
  for (const w of held) {
    const created = effects.workspaces.get(w.id) ?? 0;
    if (created > 1) duplicated += created - 1;
    if (created > 1) problems.push(`workspace ${w.id} was created ${created} times`);
    if (["creating", "running", "pending", "recovery"].includes(w.status)) problems.push(`workspace ${w.id} is still ${w.status}`);
  }
  for (const s of sessions) {
    const launched = effects.launches.get(s.id) ?? 0;
    const turns = options.turns ?? 1;
    if (launched > turns) duplicated += launched - turns;
    if (launched > turns) problems.push(`agent ${s.id} was started ${launched} times for ${turns} turn${turns === 1 ? "" : "s"}`);
    if (["starting", "running"].includes(s.status)) problems.push(`session ${s.id} is still ${s.status}`);
  }
  // Capacity: a workspace holds its node's slot from its creation until its task was cleaned up.
  const byNode = new Map<string, { from: number; to: number }[]>();
  for (const w of held) {
    const task = rows.find((t) => t.id === w.taskId);
    const spans = byNode.get(w.nodeId) ?? [];
    spans.push({ from: w.createdAt.getTime(), to: (task?.cleanedUpAt ?? new Date()).getTime() });
    byNode.set(w.nodeId, spans);
  }
  for (const [nodeId, spans] of byNode) {
    const peak = Math.max(...spans.map((s) => spans.filter((o) => o.from <= s.from && o.to > s.from).length));
    if (peak > options.maxPerNode) problems.push(`node ${nodeId} held ${peak} workspaces at once (max ${options.maxPerNode})`);
  }
  const usedNodes = [...byNode.keys()];
  if (usedNodes.length) {
    const alive = await db.select().from(nodes).where(inArray(nodes.id, usedNodes));
    for (const n of alive) if (n.status === "creating") problems.push(`node ${n.id} is still creating`);
  }
  return { completed: rows.filter((t) => t.status === "completed").length, tasks: taskIds.length, duplicated, problems };
}
