/**
 * What each wait of a task's run listens for (inngest/functions/run-task.ts hands these to
 * `waitFor`): the events of its stage, plus the cross-cutting ones its check answers: a cancel
 * ends every wait, a lost node ends every wait on a node. An event no wait listens for while it is
 * sent wakes nobody, and the run's next check sees its change anyway: the database decides.
 * Each event listened for costs the wait one step per slice (inngest/wait-for.ts), so the lists
 * stay short.
 */
import {
  agentCompleted,
  agentFailed,
  nodeLost,
  nodeReady,
  pullRequestCi,
  taskCancelled,
  taskFinishRequested,
  taskFollowup,
  taskSlotAvailable,
  workspaceProvisioningFailed,
  workspaceReady,
} from "../contracts/events";

export const WAIT_EVENTS = {
  /** `node_selection/queue`: every node is full; a freed slot places the task. */
  queue: [taskSlotAvailable, taskCancelled],
  node_agent_ready: [nodeReady, nodeLost, taskCancelled],
  workspace_ready: [workspaceReady, workspaceProvisioningFailed, nodeLost, taskCancelled],
  /** The agent's turn (the first, and each follow-up's). */
  running: [agentCompleted, agentFailed, nodeLost, taskCancelled],
  /** The pushed commit's CI: a webhook says it changed; a follow-up or "finish" stops the watch. */
  awaiting_ci: [pullRequestCi, taskFollowup, taskFinishRequested, taskCancelled],
  awaiting_followup: [taskFollowup, taskFinishRequested, taskCancelled],
} as const;
