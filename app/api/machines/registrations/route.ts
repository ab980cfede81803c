import { createMachineRegistration } from "@/lib/machines/registrations";
import { userRoute } from "@/app/_server/routes";
import { json } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

/** "Add a machine": a one-time install command for the caller's machine; its token is shown this once. */
export const POST = userRoute(async ({ rt, userId }) =>
  json(await createMachineRegistration(rt.db, { userId, appUrl: rt.config.APP_URL, ttlMs: rt.config.MACHINE_REGISTRATION_TTL }), 201),
);
