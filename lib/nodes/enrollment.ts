/**
 * Cloud nodes' enrollment. A cloud machine boots from user data that any process on it can read for
 * as long as it runs (Hetzner's metadata service answers it to whoever asks, the agents included), so
 * that user data never holds the node's callback token, with which an agent could speak for the node
 * (a ready report with another certificate, heartbeats). It holds a one-time enrollment token, which
 * the installer exchanges at first boot for the callback token (POST /api/nodes/{id}/enroll).
 *
 * Only the token's SHA-256 is kept. It enrolls its own node only, until NODE_ENROLLMENT_TTL, and the
 * node's first enrollment spends every token the node has: by the time an agent runs there, what the
 * metadata service still answers is worthless (work is placed on a node only once it is ready, and
 * it reports ready only after its installer enrolled).
 */
import { and, eq, exists, gt, isNull, notInArray, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { nodeEnrollments, nodes } from "@/db/schema";
import type { KeyPair } from "../auth/keys";
import { newSecretToken, secretTokenHash } from "../auth/secret-tokens";
import { signNodeCallbackToken } from "../auth/tokens";
import { parametersFile } from "./cloud-init";
import { GONE_NODE_STATUSES } from "../contracts/statuses";
import { RefusalError } from "../refusal";

export const ENROLLMENT_TOKEN_PREFIX = "acpe_";

/**
 * Why an enrollment was refused. `unknown`: the token is not one of this node's; `used`: the node
 * enrolled already; `expired`: the token's time is over; `gone`: the node is stopped or lost.
 * app/_server/domain-errors.ts maps each to its status.
 */
export type NodeEnrollmentRefusal = "unknown" | "used" | "expired" | "gone";

export class NodeEnrollmentError extends RefusalError<NodeEnrollmentRefusal> {
  override readonly name = "NodeEnrollmentError";
}

/** Makes an enrollment token for the node, good for `ttlMs` (by the database's clock); the answer is the only time it is seen. */
export async function createNodeEnrollment(db: Executor, nodeId: string, ttlMs: number): Promise<string> {
  const token = newSecretToken(ENROLLMENT_TOKEN_PREFIX);
  await db.insert(nodeEnrollments).values({ tokenHash: secretTokenHash(token), nodeId, expiresAt: sql`now() + ${`${ttlMs} milliseconds`}::interval` });
  return token;
}

export type EnrollNodeDeps = {
  db: Executor;
  keys: KeyPair;
  /** How long the callback token lasts: what a node the control plane hands its token directly gets (CALLBACK_TOKEN_TTL). */
  callbackTtlMs: number;
};

export type NodeEnrollmentAnswer = { parameters: Record<string, string>; text: string };

/**
 * Spends the node's enrollment and answers the installer's parameters it lacked: the node's callback
 * token, as `KEY='value'` lines. One conditional update is the check and the spending, so two
 * requests never both enroll. Throws NodeEnrollmentError, having written nothing, when it may not.
 */
export async function enrollNode(deps: EnrollNodeDeps, nodeId: string, token: string): Promise<NodeEnrollmentAnswer> {
  const tokenHash = secretTokenHash(token);
  // Signed before the token is spent: one signed and never sent is harmless, a spent token with nothing to answer loses the node.
  const nodeCallbackToken = await signNodeCallbackToken(deps.keys, { nodeId }, deps.callbackTtlMs);
  const usable = deps.db
    .select({ one: sql`1` })
    .from(nodeEnrollments)
    .where(and(eq(nodeEnrollments.nodeId, nodeId), eq(nodeEnrollments.tokenHash, tokenHash), gt(nodeEnrollments.expiresAt, sql`now()`)));
  const enrolled = await deps.db
    .update(nodes)
    .set({ enrolledAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(nodes.id, nodeId), isNull(nodes.enrolledAt), notInArray(nodes.status, [...GONE_NODE_STATUSES]), exists(usable)))
    .returning({ id: nodes.id });
  if (!enrolled.length) throw await refusal(deps.db, nodeId, tokenHash);
  const parameters = { ACP_NODE_CALLBACK_TOKEN: nodeCallbackToken };
  return { parameters, text: parametersFile(parameters) };
}

/** Why the update above found nothing, read after it. */
async function refusal(db: Executor, nodeId: string, tokenHash: string): Promise<NodeEnrollmentError> {
  const [enrollment] = await db
    .select({ expiresAt: nodeEnrollments.expiresAt, expired: sql<boolean>`${nodeEnrollments.expiresAt} <= now()` })
    .from(nodeEnrollments)
    .where(and(eq(nodeEnrollments.nodeId, nodeId), eq(nodeEnrollments.tokenHash, tokenHash)));
  // Before anything else: a caller without one of the node's tokens learns nothing of the node.
  if (!enrollment) return new NodeEnrollmentError("unknown", `this enrollment token is not node ${nodeId}'s: the installer sends the one in its node's cloud-init`);
  const [node] = await db.select({ status: nodes.status, enrolledAt: nodes.enrolledAt }).from(nodes).where(eq(nodes.id, nodeId));
  if (!node || GONE_NODE_STATUSES.includes(node.status)) {
    return new NodeEnrollmentError("gone", `node ${nodeId} is ${node?.status ?? "gone"}: it may not enroll any more`);
  }
  if (node.enrolledAt) {
    return new NodeEnrollmentError(
      "used",
      `node ${nodeId} enrolled at ${node.enrolledAt.toISOString()}: its enrollment token works once, at the node's first boot (an install run again there goes on with the parameters it saved)`,
    );
  }
  if (enrollment.expired) {
    return new NodeEnrollmentError("expired", `this enrollment token expired at ${enrollment.expiresAt.toISOString()} (NODE_ENROLLMENT_TTL after node ${nodeId}'s machine was asked for): the node cannot join any more`);
  }
  // All held when read again: the node changed in between (another request enrolled it).
  return new NodeEnrollmentError("used", `node ${nodeId} was enrolled meanwhile: its enrollment token works once`);
}
