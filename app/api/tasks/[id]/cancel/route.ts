import type { CancelTaskResponse } from "@/lib/contracts/api";
import { cancelTask } from "@/lib/tasks/cancel-task";
import { userRouteWithId } from "@/app/_server/routes";
import { json, problem } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

export const POST = userRouteWithId(async ({ rt, id, userId }) => {
  const result = await cancelTask(rt, userId, id);
  if (result.outcome === "not_found") return problem(404, `task ${id} not found`, "id");
  if (result.outcome === "terminal") return problem(409, `task ${id} is already ${result.status}`);
  return json({ taskId: id, status: "cancelled" } satisfies CancelTaskResponse, 202);
});
