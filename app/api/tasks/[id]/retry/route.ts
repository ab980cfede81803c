import type { RetryTaskResponse } from "@/lib/contracts/api";
import { retryTask } from "@/lib/tasks/retry-task";
import { userRouteWithId } from "@/app/_server/routes";
import { runStarter } from "@/lib/runs/start";
import { json, problem } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

export const POST = userRouteWithId(async ({ rt, id, userId }) => {
  const result = await retryTask({ ...rt, startRun: runStarter(rt) }, userId, id);
  if (result.outcome === "not_found") return problem(404, `task ${id} not found`, "id");
  if (result.outcome === "not_retryable") return problem(409, `task ${id} is ${result.status}; only a failed or cancelled task can be retried`);
  const { taskId, status, attempt } = result;
  return json({ taskId, status, attempt } satisfies RetryTaskResponse, 202);
});
