/** Applying an agent turn's completion: from its callback, or read back from the node when the callback was lost. */
import type { AgentCompletedCallback } from "../contracts/vm-agent";
import { agentCompleted, agentFailed } from "../contracts/events";
import { wakeRuns } from "../tasks/wake-run";
import type { Runtime } from "../runtime";
import { recordAgentCompletion } from "../sessions/lifecycle";
import { failTask } from "../tasks/fail-task";

/** Records a turn's completion (from the callback, or read back from the node) and fails the task when the agent failed. */
export async function applyAgentCompletion(rt: Runtime, sessionId: string, body: AgentCompletedCallback) {
  const result = await rt.db.transaction(async (tx) => {
    const recorded = await recordAgentCompletion(tx, sessionId, body);
    if (recorded.outcome === "applied" && recorded.message) {
      await failTask(tx, recorded.taskId!, recorded.message, "workspace_callback", { step: "running", workspaceId: body.workspaceId });
    }
    return recorded;
  });
  if (result.outcome !== "ignored" && result.taskId) {
    const turn = result.turn ?? 1;
    const ended = result.message
      ? agentFailed.create({ taskId: result.taskId, sessionId, turn, error: body.error ?? null })
      : agentCompleted.create({ taskId: result.taskId, sessionId, turn, branch: body.branch, commit: body.commit, pushed: body.pushed });
    await wakeRuns(rt, [ended], "throw");
  }
  return result;
}

