import { CreateTaskRequest } from "@/lib/contracts/api";
import { createTask } from "@/lib/tasks/create-task";
import { listTasks } from "@/lib/tasks/queries";
import { userRoute } from "@/app/_server/routes";
import { runStarter } from "@/lib/runs/start";
import { json, parseBody } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

export const POST = userRoute(async ({ rt, request, userId }) => json(await createTask({ ...rt, userId, startRun: runStarter(rt) }, await parseBody(request, CreateTaskRequest)), 202));

export const GET = userRoute(async ({ rt, userId }) => json({ tasks: await listTasks(rt.db, userId) }));
