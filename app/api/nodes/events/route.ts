import { NodeListQuery } from "@/lib/contracts/api";
import { liveHub } from "@/lib/live/hub";
import { NODES_STREAM } from "@/lib/live/publish";
import { latestLiveEventId } from "@/lib/live/queries";
import { lastEventId, sseResponse } from "@/lib/live/sse";
import { takeStreamSlot } from "@/lib/live/stream-slots";
import { listNodes } from "@/lib/operations/nodes-view";
import { userRoute } from "@/app/_server/routes";
import { parseQuery } from "@/app/_server/query";

export const dynamic = "force-dynamic";

/** The nodes page's live stream: the list, then the list again after every node change. */
export const GET = userRoute(async ({ rt, request, userId, stillValid }) => {
  const { all } = parseQuery(request, NodeListQuery);
  const read = async () => [
    { type: "nodes" as const, nodes: await listNodes(rt.db, userId, { capacity: rt.config.MAX_WORKSPACES_PER_NODE, includeOldStopped: all }) },
  ];
  return sseResponse(
    liveHub(rt.database),
    { wants: (n) => n.taskId === NODES_STREAM, snapshot: read, onChange: read, snapshotEventId: () => latestLiveEventId(rt.db, NODES_STREAM), stillValid, release: takeStreamSlot(userId, rt.config.MAX_LIVE_STREAMS_PER_USER) },
    request.signal,
    rt.config.LIVE_KEEPALIVE_INTERVAL,
    lastEventId(request),
  );
});
