/**
 * Hetzner Cloud's error codes (docs.hetzner.cloud, "Errors") and what each means for us: a
 * failure that trying again later may fix (`retriable`), or one that stands until a person acts.
 */
import { NodeProviderError } from "../../provider";

/** Where a person fixes what the token can do. */
const TOKEN_HINT = "check the HETZNER_TOKEN in Settings → Secrets: it must be a Read & Write API token of the Hetzner Cloud project (Security → API tokens)";

/**
 * Each documented code with whether it is worth retrying and, for the permanent ones a person must
 * fix, what to do. Codes Hetzner adds later fall back to their status (5xx and 429 retried).
 */
export const HETZNER_ERROR_CODES: Record<string, { retriable: boolean; hint?: string }> = {
  json_error: { retriable: false }, // 400: our request was malformed
  unauthorized: { retriable: false, hint: TOKEN_HINT }, // 401: unknown or revoked token
  token_readonly: { retriable: false, hint: TOKEN_HINT }, // 401: a read-only token cannot create servers
  forbidden: { retriable: false, hint: TOKEN_HINT }, // 403
  maintenance: { retriable: true }, // 403: blocked while Hetzner maintains; passes
  resource_limit_exceeded: { retriable: false, hint: "the Hetzner project's limit is reached: delete servers there, or ask Hetzner to raise the limit" }, // 403
  not_found: { retriable: false }, // 404
  method_not_allowed: { retriable: false }, // 405
  uniqueness_error: { retriable: false }, // 409: the caller adopts what exists
  conflict: { retriable: true }, // 409: "the resource has changed during the request, please retry"
  deprecated_api_endpoint: { retriable: false }, // 410
  resource_unavailable: { retriable: false, hint: "choose another HETZNER_SERVER_TYPE or HETZNER_LOCATION" }, // 412: not orderable; no retry promise
  invalid_input: { retriable: false }, // 422
  service_error: { retriable: false }, // 422
  unsupported_error: { retriable: false }, // 422
  locked: { retriable: true }, // 423: another action runs on the resource; it ends
  protected: { retriable: false, hint: "the server has delete protection on: turn it off in the Hetzner console" }, // 423
  rate_limit_exceeded: { retriable: true }, // 429: until the limit refills (RateLimit-* headers)
  server_error: { retriable: true }, // 500
  bad_gateway: { retriable: true }, // 502
  unavailable: { retriable: true }, // 503
  timeout: { retriable: true }, // 504
  no_answer: { retriable: true }, // ours: the connection failed or HETZNER_REQUEST_TIMEOUT passed
  invalid_answer: { retriable: true }, // ours: an answer that is not what the API documents (a proxy's page)
};

export class HetznerApiError extends NodeProviderError {
  override readonly name = "HetznerApiError";
  /** `details` of the error answer (invalid_input: the fields; resource_limit_exceeded: the limits). */
  readonly details: unknown;

  constructor(failure: { code: string; message: string; status?: number; details?: unknown; retryAt?: Date; request: string }, options?: ErrorOptions) {
    const known = HETZNER_ERROR_CODES[failure.code];
    const retriable = known?.retriable ?? (failure.status === undefined || failure.status >= 500 || failure.status === 429);
    const answered = failure.status === undefined ? "got no answer" : `answered ${failure.status} ${failure.code}`;
    const hint = known?.hint ? `; ${known.hint}` : "";
    super(`Hetzner Cloud (${failure.request}) ${answered}: ${failure.message}${hint}`, { provider: "hetzner", code: failure.code, status: failure.status, retriable, retryAt: failure.retryAt }, options);
    this.details = failure.details;
  }
}

/** The code of a non-JSON error answer, by its status (a gateway's page), as the API names them. */
export function codeForStatus(status: number): string {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 429) return "rate_limit_exceeded";
  if (status === 502) return "bad_gateway";
  if (status === 503) return "unavailable";
  if (status === 504) return "timeout";
  if (status >= 500) return "server_error";
  return "invalid_answer";
}
