import { liveHub } from "@/lib/live/hub";
import { sseResponse } from "@/lib/live/sse";
import { database } from "@/lib/db";
import { latestLiveEventId } from "@/lib/live/queries";
import { getTaskDetail, listTasks } from "@/lib/tasks/queries";
import { userRoute } from "@/app/_server/routes";

export const dynamic = "force-dynamic";

/** Every task's changes, for the task list: the list first, then each changed task. */
export const GET = userRoute(async ({ rt, request }) =>
  sseResponse(
    liveHub(await database()),
    {
      wants: () => true,
      snapshot: async () => [{ type: "tasks", tasks: await listTasks(rt.db, rt.userId) }],
      onChange: async ({ taskId }) => {
        const task = await getTaskDetail(rt.db, taskId);
        return task ? [{ type: "task", task }] : [];
      },
      snapshotEventId: () => latestLiveEventId(rt.db),
    },
    request.signal,
    rt.config.LIVE_KEEPALIVE_INTERVAL,
  ),
);
