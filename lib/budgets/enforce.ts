/**
 * Holding tasks to their budgets as they spend. Each batch of a running turn's output adds its
 * model responses' cost (./spend.ts); when that crosses a budget, the task is paused and its agent
 * interrupted as a person would (the node commits and pushes its work and ends the turn). A turn's
 * own total, once it ends, is held to them too (a CLI that reports only totals, such as Codex, is
 * stopped between turns). The interrupt is asked once when the pause begins and again by the
 * periodic job (`budget-interrupts`) until the turn has ended: a node that missed it is asked again.
 */
import { and, eq, inArray, isNotNull } from "drizzle-orm";
import { agentSessions, nodes, tasks, workspaces } from "@/db/schema";
import type { AgentOutputCallback } from "../contracts/vm-agent";
import { RUN_TASK_STATUSES } from "../contracts/statuses";
import { log } from "../log";
import { clientForNode } from "../nodes/vm-agent-client";
import type { Runtime } from "../runtime";
import { budgetVerdict, pauseForBudget } from "./limits";
import { recordMessageSpend } from "./spend";

type Session = { id: string; taskId: string; workspaceId: string; agent: string; turn: number; status: string };

/** After a batch of output was stored: its responses' spend, and the pause and interrupt when a budget is crossed. */
export async function holdToBudgetAfterOutput(rt: Runtime, session: Session, body: AgentOutputCallback): Promise<void> {
  // A late batch of an earlier turn adds to that turn's record, not to what runs now.
  if (body.turn !== session.turn || session.status !== "running") return;
  const [task] = await rt.db.select({ userId: tasks.userId, model: tasks.model, status: tasks.status }).from(tasks).where(eq(tasks.id, session.taskId));
  if (!task || !RUN_TASK_STATUSES.includes(task.status)) return;
  const grew = await recordMessageSpend(rt.db, { sessionId: session.id, taskId: session.taskId, userId: task.userId, agent: session.agent, model: task.model, turn: body.turn, lines: body.lines, prices: rt.config.MODEL_PRICES });
  if (!grew) return;
  const verdict = await budgetVerdict(rt.db, rt.config, session.taskId);
  if (!verdict.over) return;
  if (await pauseForBudget(rt.db, session.taskId, verdict.reason, body.turn)) await interruptForBudget(rt, session.taskId);
}

/** After a turn's completion was recorded: a total that crossed a budget pauses the task before its next turn. */
export async function holdToBudgetAfterTurn(rt: Runtime, taskId: string): Promise<void> {
  const verdict = await budgetVerdict(rt.db, rt.config, taskId);
  if (verdict.over) await pauseForBudget(rt.db, taskId, verdict.reason, null);
}

/**
 * Asks the node to interrupt the turn the budget stopped, while that turn still runs; a call that
 * fails is left for the periodic job. Answers whether the node was asked.
 */
export async function interruptForBudget(rt: Runtime, taskId: string): Promise<boolean> {
  const [row] = await rt.db
    .select({ turn: tasks.budgetInterruptedTurn, reason: tasks.budgetReason, session: agentSessions, node: nodes })
    .from(tasks)
    .innerJoin(workspaces, eq(workspaces.id, tasks.workspaceId))
    .innerJoin(agentSessions, eq(agentSessions.workspaceId, workspaces.id))
    .innerJoin(nodes, eq(nodes.id, workspaces.nodeId))
    .where(and(eq(tasks.id, taskId), isNotNull(tasks.budgetPausedAt), isNotNull(tasks.budgetInterruptedTurn)));
  if (!row || row.turn === null || row.session.status !== "running" || row.session.turn !== row.turn) return false;
  try {
    await clientForNode(rt, row.node).interruptAgentSession(row.session.workspaceId, row.session.id, { turn: row.turn, reason: row.reason ?? "a budget was reached" });
    return true;
  } catch (error) {
    log.warn("the node could not be asked to interrupt an agent at its budget; the periodic job asks again", { taskId, nodeId: row.node.id, error: String(error) });
    return false;
  }
}

/** The periodic job: every paused task whose interrupted turn still runs is asked again (the node ignores a repeat). */
export async function interruptHeldTurns(rt: Runtime): Promise<string[]> {
  const held = await rt.db
    .select({ id: tasks.id })
    .from(tasks)
    .innerJoin(agentSessions, eq(agentSessions.workspaceId, tasks.workspaceId))
    .where(and(isNotNull(tasks.budgetPausedAt), isNotNull(tasks.budgetInterruptedTurn), eq(agentSessions.turn, tasks.budgetInterruptedTurn), eq(agentSessions.status, "running"), inArray(tasks.status, RUN_TASK_STATUSES)));
  const asked: string[] = [];
  for (const { id } of held) if (await interruptForBudget(rt, id)) asked.push(id);
  return asked;
}
