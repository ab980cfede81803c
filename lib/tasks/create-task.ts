/** Submitting a task: the row is committed first, then the pipeline is started with an event. */
import { inngest } from "@/inngest/client";
import { taskSubmitted } from "@/inngest/events";
import { tasks, taskStatusEvents } from "@/db/schema";
import type { Db } from "@/db/client";
import type { Config } from "../config";
import type { CreateTaskResponse } from "../contracts/api";
import type { AgentKind } from "../contracts/vm-agent";
import { publishTaskChange } from "../live/publish";
import { branchName } from "./branch-name";
import { failTask } from "./fail-task";

export class EngineUnavailableError extends Error {}

export async function createTask(
  deps: { db: Db; config: Config; userId: string },
  input: { repository: string; prompt: string; agent: AgentKind },
): Promise<CreateTaskResponse> {
  const taskId = crypto.randomUUID();
  const branch = branchName(deps.config.BRANCH_PREFIX, input.prompt, taskId, deps.config.BRANCH_NAME_MAX);
  await deps.db.transaction(async (tx) => {
    await tx.insert(tasks).values({ id: taskId, userId: deps.userId, ...input, status: "queued", branch });
    await tx.insert(taskStatusEvents).values({ taskId, fromStatus: null, toStatus: "queued", actor: "user", reason: "submitted" });
    await publishTaskChange(tx, taskId, "created");
  });
  try {
    await inngest.send(taskSubmitted.create({ taskId, userId: deps.userId, runKey: `${taskId}:0` }));
  } catch (error) {
    const message = `could not start the pipeline: ${(error as Error).message}`;
    await failTask(deps.db, taskId, message);
    throw new EngineUnavailableError(message);
  }
  return { taskId, branch, status: "queued" };
}
