/**
 * One table from the domain's named errors to HTTP answers: domain code throws them and never
 * knows a status code; the route wrappers (./routes) turn them into responses.
 */
import { HttpError } from "./http/respond";
import { NodeAlreadyStoppedError, NodeInUseError, NodeNotFoundError } from "@/lib/operations/destroy-node";
import { RepositoryRefusedError } from "@/lib/tasks/repository-policy";
import { BaseBranchRefusedError } from "@/lib/tasks/base-branch";
import { ApiTokenNotFoundError } from "@/lib/auth/api-tokens";
import { UserLimitError } from "@/lib/tasks/user-limits";
import { StreamLimitError } from "@/lib/live/stream-slots";
import { InvitationNotFoundError, NotAdminError } from "@/lib/auth/invitations";
import { SecretNotFoundError } from "@/lib/secrets/store";
import { MissingSecretError } from "@/lib/secrets/agent-keys";
import { MissingProviderTokenError } from "@/lib/secrets/provider-token";
import { ForgeError } from "@/lib/forge/forge";
import { NothingHeldError } from "@/lib/workspaces/held-work";
import { MachineRegistrationError } from "@/lib/machines/errors";
import { NodeEnrollmentError } from "@/lib/nodes/enrollment";
import { CallbackRefusedError } from "@/lib/callbacks/errors";
import type { RefusalError } from "@/lib/refusal";

type ErrorClass = abstract new (...args: never[]) => Error;

const STATUSES: readonly (readonly [ErrorClass, number, string?])[] = [
  [NodeNotFoundError, 404, "id"],
  [NodeInUseError, 409],
  [NodeAlreadyStoppedError, 409],
  [RepositoryRefusedError, 422, "repository"],
  [BaseBranchRefusedError, 422, "baseBranch"],
  [ApiTokenNotFoundError, 404, "id"],
  [SecretNotFoundError, 404, "name"],
  [MissingSecretError, 422, "agent"],
  [MissingProviderTokenError, 422],
  [NothingHeldError, 409],
  [InvitationNotFoundError, 404, "email"],
  [NotAdminError, 403],
];

type Answer = readonly [number, string?];
/** A refusal kind, answered by its reason: the HttpError for an error of that kind, else undefined. */
const refusals =
  <R extends string>(type: abstract new (...args: never[]) => RefusalError<R>, answers: Record<R, Answer>) =>
  (error: unknown): HttpError | undefined => {
    if (!(error instanceof type)) return undefined;
    const [status, field] = answers[error.refusal];
    return new HttpError(status, error.message, field);
  };

const REFUSALS = [
  /** An unknown token is not a credential (401); a spent one was, and is gone for good (410). */
  refusals(MachineRegistrationError, {
    unknown: [401, "token"],
    used: [410, "token"],
    expired: [410, "token"],
    unreachable: [409],
    address: [422, "advertisedHost"],
  }),
  /** The same for a node's enrollment token; a node that is stopped or lost is not found for it. */
  refusals(NodeEnrollmentError, {
    unknown: [401, "token"],
    used: [410, "token"],
    expired: [410, "token"],
    gone: [404, "id"],
  }),
  /** A vm-agent callback's refusals; a node daemon on another contract version is a conflict it cannot retry away. */
  refusals(CallbackRefusedError, {
    gone: [404],
    endpoint: [422, "endpoint"],
    contractVersion: [409, "contractVersion"],
    otherWorkspace: [403],
  }),
];

/** The HttpError a domain error stands for; anything else is returned as it is. */
export function toHttpError(error: unknown): unknown {
  for (const answer of REFUSALS) {
    const refused = answer(error);
    if (refused) return refused;
  }
  // The forge's refusal is about the repository; its outage is the forge's (a bad gateway), not the person's.
  if (error instanceof ForgeError) return error.transient ? new HttpError(502, error.message) : new HttpError(422, error.message, "repository");
  if (error instanceof UserLimitError || error instanceof StreamLimitError) return new HttpError(429, error.message, undefined, { "retry-after": String(error.retryAfterSeconds) });
  for (const [type, status, field] of STATUSES) {
    if (error instanceof type) return new HttpError(status, error.message, field);
  }
  return error;
}
