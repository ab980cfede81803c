/** The caller's network settings for their tasks' workspaces (lib/egress/settings.ts). */
import { NetworkSettings } from "@/lib/contracts/api";
import { networkSettings, saveNetworkSettings } from "@/lib/egress/settings";
import { userRoute } from "@/app/_server/routes";
import { json, parseBody } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

export const GET = userRoute(async ({ rt, userId }) => json(await networkSettings(rt.db, rt.config, userId)));

export const PUT = userRoute(async ({ rt, userId, request }) => json(await saveNetworkSettings(rt.db, userId, await parseBody(request, NetworkSettings))));
