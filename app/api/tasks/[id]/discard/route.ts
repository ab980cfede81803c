import { discardHeldWork } from "@/lib/workspaces/held-work";
import { userRouteWithId } from "@/app/_server/routes";
import { json, problem } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

/** Deletes the task's held work from its node: the person decided it is not wanted. */
export const POST = userRouteWithId(async ({ rt, id, userId }) => {
  const result = await discardHeldWork(rt, userId, id);
  return result ? json(result) : problem(404, `task ${id} not found`, "id");
});
