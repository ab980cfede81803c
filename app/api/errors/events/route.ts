import { ErrorListQuery } from "@/lib/contracts/api";
import { liveHub } from "@/lib/live/hub";
import { ERRORS_STREAM } from "@/lib/live/publish";
import { latestLiveEventId } from "@/lib/live/queries";
import { lastEventId, sseResponse } from "@/lib/live/sse";
import { takeStreamSlot } from "@/lib/live/stream-slots";
import { errorList } from "@/lib/operations/errors-view";
import { userRoute } from "@/app/_server/routes";
import { parseQuery } from "@/app/_server/query";

export const dynamic = "force-dynamic";

/** The errors page's live stream: the newest errors (of `?kind=`), again after every one recorded. */
export const GET = userRoute(async ({ rt, request, caller, userId, stillValid }) => {
  const { kind } = parseQuery(request, ErrorListQuery);
  const read = async () => [{ type: "errors" as const, ...(await errorList(rt.db, { userId, seesSystem: caller.role === "admin" }, kind)) }];
  return sseResponse(
    liveHub(rt.database),
    { wants: (n) => n.taskId === ERRORS_STREAM, snapshot: read, onChange: read, snapshotEventId: () => latestLiveEventId(rt.db, ERRORS_STREAM), stillValid, release: takeStreamSlot(userId, rt.config.MAX_LIVE_STREAMS_PER_USER) },
    request.signal,
    rt.config.LIVE_KEEPALIVE_INTERVAL,
    lastEventId(request),
  );
});
