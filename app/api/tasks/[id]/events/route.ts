import { liveHub } from "@/lib/live/hub";
import { lastEventId, sseResponse } from "@/lib/live/sse";
import { takeStreamSlot } from "@/lib/live/stream-slots";
import { latestLiveEventId } from "@/lib/live/queries";
import { getTaskDetail } from "@/lib/tasks/queries";
import { userRouteWithId } from "@/app/_server/routes";
import { problem } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

/** The task's live stream: its snapshot, then its new state after every change. */
export const GET = userRouteWithId(async ({ rt, id, request, userId, stillValid }) => {
  if (!(await getTaskDetail(rt.db, id, userId))) return problem(404, `task ${id} not found`, "id");
  const read = async () => {
    const task = await getTaskDetail(rt.db, id, userId);
    return task ? [{ type: "task" as const, task }] : [];
  };
  return sseResponse(
    liveHub(rt.database),
    { wants: (n) => n.taskId === id, snapshot: read, onChange: read, snapshotEventId: () => latestLiveEventId(rt.db, id), stillValid, release: takeStreamSlot(userId, rt.config.MAX_LIVE_STREAMS_PER_USER) },
    request.signal,
    rt.config.LIVE_KEEPALIVE_INTERVAL,
    lastEventId(request),
  );
});
