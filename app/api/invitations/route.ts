import { CreateInvitationRequest } from "@/lib/contracts/api";
import { invite, listInvitations, NotAdminError, removeInvitation } from "@/lib/auth/invitations";
import { userRoute } from "@/app/_server/routes";
import { HttpError, json, parseBody } from "@/app/_server/http/respond";
import type { Caller } from "@/app/_server/http/caller";
import type { Runtime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

/** Invitations are team mode's, and an admin's. */
function adminOfTeam(rt: Runtime, caller: Caller) {
  if (rt.config.AUTH_MODE !== "team") throw new HttpError(409, "local mode has no sign-in, so nobody is invited");
  if (caller.role !== "admin") throw new NotAdminError();
}

export const GET = userRoute(async ({ rt, caller }) => {
  adminOfTeam(rt, caller);
  return json({ invitations: await listInvitations(rt.db) });
});

/** Invites an email: its owner may sign in with GitHub under it (a verified address of their account). */
export const POST = userRoute(async ({ rt, caller, request }) => {
  adminOfTeam(rt, caller);
  const { email } = await parseBody(request, CreateInvitationRequest);
  return json(await invite(rt.db, email, caller.userId), 201);
});

/** `?email=`: removes that invitation; its address no longer lets anyone in (an admin stays one). */
export const DELETE = userRoute(async ({ rt, caller, request }) => {
  adminOfTeam(rt, caller);
  const parsed = CreateInvitationRequest.safeParse({ email: new URL(request.url).searchParams.get("email") ?? "" });
  if (!parsed.success) throw new HttpError(422, `email ${parsed.error.issues[0]!.message}`, "email");
  await removeInvitation(rt.db, parsed.data.email);
  return json({ removed: true });
});
