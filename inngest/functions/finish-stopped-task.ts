/**
 * Cleans up after a run that was ended from outside: a cancelled task, a failed provisioning or a
 * failed agent. Their routes already wrote the outcome; this stops the workspace and frees the node.
 */
import { inngest } from "../client";
import { agentFailed, taskCancelled, workspaceProvisioningFailed } from "../events";
import { runtime } from "@/lib/runtime";
import { cleanupTask } from "@/lib/pipeline/stages";

export const finishStoppedTask = inngest.createFunction(
  { id: "finish-stopped-task", triggers: [taskCancelled, workspaceProvisioningFailed, agentFailed] },
  async ({ event, step }) => {
    const { taskId } = event.data;
    return step.run("cleanup", async () => cleanupTask(await runtime(), taskId));
  },
);
