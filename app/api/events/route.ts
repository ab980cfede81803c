import { liveHub } from "@/lib/live/hub";
import { lastEventId, sseResponse } from "@/lib/live/sse";
import { takeStreamSlot } from "@/lib/live/stream-slots";
import { latestLiveEventId } from "@/lib/live/queries";
import { ERRORS_STREAM, NODES_STREAM } from "@/lib/live/publish";
import { getTaskDetail, listTasks } from "@/lib/tasks/queries";
import { userRoute } from "@/app/_server/routes";

export const dynamic = "force-dynamic";

/** Every task's changes, for the task list: the list first, then each changed task. */
export const GET = userRoute(async ({ rt, request, userId, stillValid }) =>
  sseResponse(
    liveHub(rt.database),
    {
      // Every task; the nodes and errors pages' keys are not tasks.
      wants: ({ taskId }) => taskId !== NODES_STREAM && taskId !== ERRORS_STREAM,
      snapshot: async () => [{ type: "tasks", tasks: await listTasks(rt.db, userId) }],
      onChange: async ({ taskId }) => {
        // Every task's change is heard; only the caller's own tasks are sent.
        const task = await getTaskDetail(rt.db, taskId, userId);
        return task ? [{ type: "task", task }] : [];
      },
      snapshotEventId: () => latestLiveEventId(rt.db),
      stillValid,
      release: takeStreamSlot(userId, rt.config.MAX_LIVE_STREAMS_PER_USER),
    },
    request.signal,
    rt.config.LIVE_KEEPALIVE_INTERVAL,
    lastEventId(request),
  ),
);
