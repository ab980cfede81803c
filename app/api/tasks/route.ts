import { CreateTaskRequest } from "@/lib/contracts/api";
import { createTask, EngineUnavailableError } from "@/lib/tasks/create-task";
import { listTasks } from "@/lib/tasks/queries";
import { userRoute } from "@/lib/http/routes";
import { HttpError, json, parseBody } from "@/lib/http/respond";

export const dynamic = "force-dynamic";

export const POST = userRoute(async ({ rt, request }) => {
  const input = await parseBody(request, CreateTaskRequest);
  try {
    return json(await createTask(rt, input), 202);
  } catch (error) {
    if (error instanceof EngineUnavailableError) throw new HttpError(503, error.message);
    throw error;
  }
});

export const GET = userRoute(async ({ rt }) => json({ tasks: await listTasks(rt.db, rt.userId) }));
