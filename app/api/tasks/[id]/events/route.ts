import { liveHub } from "@/lib/live/hub";
import { lastEventId, sseResponse } from "@/lib/live/sse";
import { takeStreamSlot } from "@/lib/live/stream-slots";
import { latestLiveEventId } from "@/lib/live/queries";
import { getTaskDetail } from "@/lib/tasks/queries";
import { userRouteWithId } from "@/app/_server/routes";
import { problem } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

/**
 * The task's live stream: its snapshot, then its new state after every change. A candidate of best
 * of N shows every candidate's state in its comparison, so a change to any of them is a change here.
 */
export const GET = userRouteWithId(async ({ rt, id, request, userId, stillValid }) => {
  const first = await getTaskDetail(rt.db, id, userId);
  if (!first) return problem(404, `task ${id} not found`, "id");
  const watched = new Set([id, ...(first.group?.candidates.map((c) => c.taskId) ?? [])]);
  const read = async () => {
    const task = await getTaskDetail(rt.db, id, userId);
    return task ? [{ type: "task" as const, task }] : [];
  };
  return sseResponse(
    liveHub(rt.database),
    {
      wants: (n) => watched.has(n.taskId),
      snapshot: read,
      onChange: read,
      snapshotEventId: async () => Math.max(...(await Promise.all([...watched].map((taskId) => latestLiveEventId(rt.db, taskId))))),
      stillValid,
      release: takeStreamSlot(userId, rt.config.MAX_LIVE_STREAMS_PER_USER),
    },
    request.signal,
    rt.config.LIVE_KEEPALIVE_INTERVAL,
    lastEventId(request),
  );
});
