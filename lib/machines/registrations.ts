/**
 * Machines people own: a one-time registration token, shown once inside a one-line install
 * command, lets a machine join as its maker's node (provider `machine`). Only the token's SHA-256 is
 * kept (32 random bytes need no slow hash); it expires after MACHINE_REGISTRATION_TTL and is spent by
 * the first registration, in the same transaction that creates the node. The registration records
 * where the node must serve (the host it advertised, else the address it came from, and the agent
 * port): the node's own token may never move its endpoint elsewhere (provider.ts).
 */
import { randomBytes } from "node:crypto";
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { machineRegistrations, nodes } from "@/db/schema";
import { newSecretToken, secretTokenHash } from "../auth/secret-tokens";
import { callbackUrlProblem } from "../contracts/tls";
import { publishNodeChange } from "../live/publish";
import { newNodeId } from "../nodes/selection";
import { MachineRegistrationError } from "./errors";
import { installCommand } from "./install-command";

export const REGISTRATION_TOKEN_PREFIX = "acpm_";
export const MACHINE_PROVIDER = "machine";

export type CreatedRegistration = { id: string; token: string; command: string; expiresAt: string };

/**
 * Makes a registration for `userId`; the answer is the only time its token is seen. Refused when
 * nodes on other machines could not call back to `appUrl` (plain http to a name that is not this machine).
 */
export async function createMachineRegistration(db: Executor, input: { userId: string; appUrl: string; ttlMs: number }): Promise<CreatedRegistration> {
  const problem = callbackUrlProblem(input.appUrl);
  if (problem) throw new MachineRegistrationError("unreachable", `APP_URL ${problem}; a machine's daemon refuses to call back to it`);
  const token = newSecretToken(REGISTRATION_TOKEN_PREFIX);
  const [row] = await db
    .insert(machineRegistrations)
    .values({ id: `mreg_${randomBytes(9).toString("base64url")}`, userId: input.userId, tokenHash: secretTokenHash(token), expiresAt: new Date(Date.now() + input.ttlMs) })
    .returning();
  return { id: row!.id, token, command: installCommand(input.appUrl, token), expiresAt: row!.expiresAt.toISOString() };
}

export type RegisteredMachine = { nodeId: string; userId: string; registrationId: string; host: string; agentPort: number };

/** The token's registration, when it may still be used; else throws MachineRegistrationError (unknown, used or expired). */
function usable(registration: typeof machineRegistrations.$inferSelect | undefined) {
  if (!registration) throw new MachineRegistrationError("unknown", "this registration token is not known here: copy the install command from the nodes page again");
  if (registration.usedAt) {
    throw new MachineRegistrationError("used", `this registration token was used at ${registration.usedAt.toISOString()}; each install command registers one machine: make a new one on the nodes page`);
  }
  if (registration.expiresAt.getTime() <= Date.now()) {
    throw new MachineRegistrationError("expired", `this registration token expired at ${registration.expiresAt.toISOString()}: make a new install command on the nodes page`);
  }
  return registration;
}

/** Throws as consumeMachineRegistration would for a token that cannot be used, and writes nothing: a caller is known before anything is done for it. */
export async function checkMachineRegistration(db: Executor, token: string): Promise<void> {
  const [registration] = await db.select().from(machineRegistrations).where(eq(machineRegistrations.tokenHash, secretTokenHash(token)));
  usable(registration);
}

/**
 * Spends the token and creates its owner's node for the machine, `creating` until its daemon
 * reports ready. The node's provider id is the registration's: the control plane has nothing to
 * create for it. Throws MachineRegistrationError (unknown, used or expired token) and writes nothing then.
 */
export async function consumeMachineRegistration(db: Executor, input: { token: string; host: string; agentPort: number }): Promise<RegisteredMachine> {
  return db.transaction(async (tx) => {
    const [locked] = await tx.select().from(machineRegistrations).where(eq(machineRegistrations.tokenHash, secretTokenHash(input.token))).for("update");
    const registration = usable(locked);
    const nodeId = newNodeId();
    await tx.insert(nodes).values({ id: nodeId, userId: registration.userId, provider: MACHINE_PROVIDER, providerServerId: registration.id, status: "creating", autoProvisioned: false });
    const spent = await tx
      .update(machineRegistrations)
      .set({ usedAt: sql`now()`, nodeId, address: input.host, agentPort: input.agentPort })
      .where(and(eq(machineRegistrations.id, registration.id), isNull(machineRegistrations.usedAt)))
      .returning({ id: machineRegistrations.id });
    // The row lock makes this the only use; the condition says so once more.
    if (!spent.length) throw new MachineRegistrationError("used", "this registration token was used meanwhile: make a new install command on the nodes page");
    await publishNodeChange(tx);
    return { nodeId, userId: registration.userId, registrationId: registration.id, host: input.host, agentPort: input.agentPort };
  });
}

/** Where a registered machine's daemon must serve, as its registration recorded it; undefined for a node no registration made. */
export async function registeredEndpoint(db: Executor, nodeId: string): Promise<{ host: string; agentPort: number } | undefined> {
  const [row] = await db
    .select({ address: machineRegistrations.address, agentPort: machineRegistrations.agentPort })
    .from(machineRegistrations)
    .where(eq(machineRegistrations.nodeId, nodeId));
  return row?.address && row.agentPort ? { host: row.address, agentPort: row.agentPort } : undefined;
}
