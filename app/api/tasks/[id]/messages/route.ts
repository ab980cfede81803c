import { SendMessageRequest, type SendMessageResponse } from "@/lib/contracts/api";
import { sendMessage } from "@/lib/tasks/messages";
import { userRouteWithId } from "@/app/_server/routes";
import { json, parseBody, problem } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

export const POST = userRouteWithId(async ({ rt, id, userId, request }) => {
  const input = await parseBody(request, SendMessageRequest);
  const result = await sendMessage(rt, userId, id, input);
  if (result.outcome === "not_found") return problem(404, `task ${id} not found`, "id");
  if (result.outcome === "ended") return problem(409, `task ${id} is ${result.status}; a follow-up goes to a task that is still open (retry a failed or cancelled one)`);
  return json({ message: result.message } satisfies SendMessageResponse, 202);
});
