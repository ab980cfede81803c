import { PickCandidateRequest } from "@/lib/contracts/api";
import { pickCandidate } from "@/lib/tasks/pick";
import { userRouteWithId } from "@/app/_server/routes";
import { json, parseBody, problem } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

/** Best of N: the person picks the candidate that gets the pull request (any of the group's ids names the group). */
export const POST = userRouteWithId(async ({ rt, id, userId, request }) => {
  const body = await parseBody(request, PickCandidateRequest);
  const result = await pickCandidate(rt, userId, id, body);
  if (result.outcome === "not_found") return problem(404, `task ${id} not found`, "id");
  if (result.outcome === "not_grouped") return problem(409, `task ${id} was submitted alone: there is nothing to pick from`);
  if (result.outcome === "not_candidate") return problem(422, `taskId ${body.taskId} is not one of this task's candidates`, "taskId");
  if (result.outcome === "already_picked") return problem(409, `candidate ${result.pickedTaskId} was picked already`);
  if (result.outcome === "not_ready") return problem(409, `candidate ${result.candidate} has no pushed work to pick (it is ${result.status})`, "taskId");
  return json(result.group);
});
