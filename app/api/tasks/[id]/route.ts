import { getTaskDetail } from "@/lib/tasks/queries";
import { userRouteWithId } from "@/app/_server/routes";
import { json, problem } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

export const GET = userRouteWithId(async ({ rt, id, userId }) => {
  const task = await getTaskDetail(rt.db, id, userId);
  return task ? json(task) : problem(404, `task ${id} not found`, "id");
});
