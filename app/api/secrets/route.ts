import { listSecrets } from "@/lib/secrets/store";
import { userRoute } from "@/app/_server/routes";
import { json } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

/** The caller's stored secrets: names and when they were set, never values. */
export const GET = userRoute(async ({ rt, userId }) => json({ secrets: await listSecrets(rt.db, userId) }));
