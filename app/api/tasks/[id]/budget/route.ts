import { SetTaskBudgetRequest } from "@/lib/contracts/api";
import { setTaskBudget, tooLowMessage } from "@/lib/tasks/budget";
import { userRouteWithId } from "@/app/_server/routes";
import { json, parseBody, problem } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

/** Sets the task's budget (0: no limit); raising it releases a task its budget held, which resumes the same session. */
export const PUT = userRouteWithId(async ({ rt, id, userId, request }) => {
  const { budgetUsd } = await parseBody(request, SetTaskBudgetRequest);
  const result = await setTaskBudget(rt, userId, id, budgetUsd);
  if (result.outcome === "not_found") return problem(404, `task ${id} not found`, "id");
  if (result.outcome === "ended") return problem(409, `task ${id} is already ${result.status}`);
  if (result.outcome === "too_low") return problem(422, `budgetUsd ${tooLowMessage(result.spentUsd)}`, "budgetUsd");
  return json(result.budget);
});
