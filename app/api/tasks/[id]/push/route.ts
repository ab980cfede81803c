import { pushHeldWork } from "@/lib/workspaces/held-work";
import { userRouteWithId } from "@/app/_server/routes";
import { json, problem } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

/** Pushes the task's held work again; a refused push answers 200 with `pushed: false` and why (the work stays held). */
export const POST = userRouteWithId(async ({ rt, id, userId }) => {
  const result = await pushHeldWork(rt, userId, id);
  return result ? json(result) : problem(404, `task ${id} not found`, "id");
});
