import type { FinishTaskResponse } from "@/lib/contracts/api";
import { finishTask } from "@/lib/tasks/messages";
import { userRouteWithId } from "@/app/_server/routes";
import { json, problem } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

export const POST = userRouteWithId(async ({ rt, id, userId }) => {
  const result = await finishTask(rt, userId, id);
  if (result.outcome === "not_found") return problem(404, `task ${id} not found`, "id");
  if (result.outcome === "ended") return problem(409, `task ${id} is already ${result.status}`);
  return json({ taskId: id, finishing: true } satisfies FinishTaskResponse, 202);
});
