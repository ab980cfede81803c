/** Fails a task for good: status, error row and the step that was running, in one transaction. */
import type { Executor } from "@/db/client";
import { recordError } from "../errors";
import { transitionTask, type Actor } from "./state-machine";
import { STEP_LABELS, type ExecutionStep } from "../contracts/api";
import { failRunningSteps, failStepIfAbsent } from "./timeline";
import { getTask } from "./queries";

export async function failTask(
  executor: Executor,
  taskId: string,
  message: string,
  actor: Actor = "system",
  context: { step?: string | null; workspaceId?: string | null; nodeId?: string | null } = {},
) {
  return executor.transaction(async (tx) => {
    const task = await getTask(tx, taskId);
    if (!task) return { outcome: "not_found" as const };
    const result = await transitionTask(tx, { taskId, to: "failed", actor, reason: message, set: { errorMessage: message } });
    if (result.outcome !== "moved") return result;
    await failRunningSteps(tx, taskId, "failed", message);
    if (context.step && context.step in STEP_LABELS) await failStepIfAbsent(tx, taskId, context.step as ExecutionStep, message);
    await recordError(tx, {
      taskId,
      step: context.step ?? task.executionStep,
      workspaceId: context.workspaceId ?? task.workspaceId,
      nodeId: context.nodeId ?? task.nodeId,
      message,
    });
    return result;
  });
}
