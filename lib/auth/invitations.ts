/**
 * Invitations: the emails an admin let into a team control plane. The invited person signs in with
 * GitHub under a verified address of theirs (./admission.ts); removing the invitation closes the
 * door again for anyone not otherwise allowed.
 */
import { asc, eq } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { invitations } from "@/db/schema";
import type { InvitationView } from "../contracts/api";

export class InvitationNotFoundError extends Error {
  override readonly name = "InvitationNotFoundError";
  constructor(email: string) {
    super(`no invitation for ${email}`);
  }
}

/** Only an admin invites (and sees or removes invitations), or sees the whole team's usage. */
export class NotAdminError extends Error {
  override readonly name = "NotAdminError";
  constructor(what = "invite people or see invitations") {
    super(`only an admin may ${what}`);
  }
}

const view = (row: typeof invitations.$inferSelect): InvitationView => ({
  email: row.email,
  invitedBy: row.invitedBy,
  createdAt: row.createdAt.toISOString(),
  acceptedAt: row.acceptedAt?.toISOString() ?? null,
});

/** Invites `email` (again: the same invitation). */
export async function invite(executor: Executor, email: string, invitedBy: string | null): Promise<InvitationView> {
  const address = email.trim().toLowerCase();
  await executor.insert(invitations).values({ email: address, invitedBy }).onConflictDoNothing();
  const [row] = await executor.select().from(invitations).where(eq(invitations.email, address));
  return view(row!);
}

export async function listInvitations(executor: Executor): Promise<InvitationView[]> {
  return (await executor.select().from(invitations).orderBy(asc(invitations.createdAt), asc(invitations.email))).map(view);
}

export async function removeInvitation(executor: Executor, email: string): Promise<void> {
  const removed = await executor.delete(invitations).where(eq(invitations.email, email.trim().toLowerCase())).returning({ email: invitations.email });
  if (!removed.length) throw new InvitationNotFoundError(email);
}
