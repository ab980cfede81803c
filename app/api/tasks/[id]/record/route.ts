import { taskRecord } from "@/lib/tasks/task-record";
import { userRouteWithId } from "@/app/_server/routes";
import { problem } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

/** The task's whole record, every attempt (lib/tasks/task-record.ts); `?download=1` names it as a file to save. */
export const GET = userRouteWithId(async ({ rt, id, userId, request }) => {
  const record = await taskRecord(rt.db, rt.config, id, userId);
  if (!record) return problem(404, `task ${id} not found`, "id");
  const download = new URL(request.url).searchParams.get("download") === "1";
  return new Response(JSON.stringify(record, null, 2), {
    headers: { "content-type": "application/json; charset=utf-8", ...(download ? { "content-disposition": `attachment; filename="task-${id}-record.json"` } : {}) },
  });
});
