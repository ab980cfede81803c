/** Applying an agent turn's completion: from its callback, or read back from the node when the callback was lost. */
import type { AgentCompletedCallback } from "../contracts/vm-agent";
import { agentTurnEnd } from "../contracts/events";
import { wakeRuns } from "../tasks/wake-run";
import type { Runtime } from "../runtime";
import { recordAgentCompletion } from "../sessions/lifecycle";
import { failTask } from "../tasks/fail-task";
import { holdToBudgetAfterTurn } from "../budgets/enforce";

/** Records a turn's completion (from the callback, or read back from the node) and fails the task when the agent failed. */
export async function applyAgentCompletion(rt: Runtime, sessionId: string, body: AgentCompletedCallback) {
  const result = await rt.db.transaction(async (tx) => {
    const recorded = await recordAgentCompletion(tx, sessionId, body, rt.config.MODEL_PRICES);
    if (recorded.outcome === "applied" && recorded.message) {
      await failTask(tx, recorded.taskId!, recorded.message, "workspace_callback", { step: "running", workspaceId: body.workspaceId });
    }
    return recorded;
  });
  // The turn's total counts against the budgets before the run looks at what comes next.
  if (result.outcome === "applied" && result.taskId) await holdToBudgetAfterTurn(rt, result.taskId);
  if (result.outcome !== "ignored" && result.taskId) {
    const end = { taskId: result.taskId, sessionId, turn: result.turn ?? 1, succeeded: !result.message, branch: body.branch, commit: body.commit, pushed: body.pushed, error: body.error ?? null };
    await wakeRuns(rt, [agentTurnEnd(end)], "throw");
  }
  return result;
}

