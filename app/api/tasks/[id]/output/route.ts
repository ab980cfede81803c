import { TaskOutputQuery } from "@/lib/contracts/api";
import { readTaskOutput } from "@/lib/tasks/task-output";
import { userRouteWithId } from "@/app/_server/routes";
import { parseQuery } from "@/app/_server/query";
import { download } from "@/app/_server/http/download";
import { json, problem } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

/** An attempt's whole agent output: a page of batches (`format=json`), or all of it as a download. */
export const GET = userRouteWithId(async ({ rt, id, userId, request }) => {
  const query = parseQuery(request, TaskOutputQuery);
  const result = await readTaskOutput(rt.db, id, userId, query);
  if (result.outcome === "not_found") return problem(404, `task ${id} not found`, "id");
  if (result.outcome === "all_needs_download") return problem(422, "attempt=all is for the downloads: add format=text or format=ndjson", "attempt");
  if (result.outcome === "no_attempt") return problem(404, `task ${id} has ${result.attempts} attempt${result.attempts === 1 ? "" : "s"}, not ${query.attempt}`, "attempt");
  if (result.outcome === "page") return json(result.page);
  return download(result.chunks, result);
});
