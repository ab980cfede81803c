import { getTaskDiff } from "@/lib/tasks/queries";
import { userRouteWithId } from "@/app/_server/routes";
import { json, problem } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

/** The branch's changes against its base as of the newest turn, with the unified patch. */
export const GET = userRouteWithId(async ({ rt, id, userId }) => {
  const diff = await getTaskDiff(rt.db, id, userId);
  if (diff === undefined) return problem(404, `task ${id} not found`, "id");
  return diff ? json(diff) : problem(404, `task ${id} has no diff yet: one is recorded when an agent turn ends`, "diff");
});
