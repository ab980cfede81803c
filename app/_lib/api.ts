/** Typed calls to the control plane's API; every answer is checked against the shared contract. */
import { z } from "zod";
import {
  ApiError,
  ApiTokenList,
  ApiTokenView,
  InvitationList,
  InvitationView,
  type CreateInvitationRequest,
  CancelTaskResponse,
  CreatedApiToken,
  CreatedMachineRegistration,
  CreateTaskResponse,
  DestroyNodeResponse,
  ErrorList,
  FinishTaskResponse,
  TaskDiffView,
  PushAgainResult,
  DiscardWorkResult,
  RepositoryBranchesResponse,
  Me,
  NetworkSettingsView,
  PersonBudgetsView,
  TaskBudgetView,
  NodeList,
  RetryTaskResponse,
  SecretList,
  SecretView,
  SendMessageResponse,
  TaskDetail,
  TaskGroupView,
  TaskList,
  TaskOutputPage,
  UsageReport,
  type UsageQuery,
  type CreateApiTokenRequest,
  type CreateTaskRequest,
  type ErrorKind,
  type NetworkSettings,
  type PickCandidateRequest,
  type PersonBudgets,
  type SecretName,
  type SendMessageRequest,
} from "@/lib/contracts/api";

/** A failed call: the API's own `{error, field}` when it sent one, else a description of what went wrong. */
export class ApiRequestError extends Error {
  override readonly name = "ApiRequestError";
  constructor(
    message: string,
    /** The HTTP status; 0 when the server could not be reached or answered something unreadable. */
    readonly status: number,
    /** The request field the API blamed, dotted ("prompt", "agent"). */
    readonly field?: string,
  ) {
    super(message);
  }
}

export const isNotFound = (error: unknown) => error instanceof ApiRequestError && error.status === 404;
/** A 4xx answer: asking again will not change it. */
export const isClientError = (error: unknown) =>
  error instanceof ApiRequestError && error.status >= 400 && error.status < 500;

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** How better-auth (under /api/auth) describes a refusal; the rest of the API answers `ApiError`. */
const AuthProblem = z.object({ message: z.string().min(1) });

async function request<S extends z.ZodType>(schema: S, path: string, init?: RequestInit): Promise<z.infer<S>> {
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers: { accept: "application/json", ...init?.headers } });
  } catch (error) {
    if (init?.signal?.aborted) throw error;
    throw new ApiRequestError("Could not reach the control plane.", 0);
  }
  const body = await readJson(response);
  if (!response.ok) {
    const problem = ApiError.safeParse(body);
    if (problem.success) throw new ApiRequestError(problem.data.error, response.status, problem.data.field);
    const authProblem = AuthProblem.safeParse(body);
    if (authProblem.success) throw new ApiRequestError(authProblem.data.message, response.status);
    throw new ApiRequestError(`The request failed (HTTP ${response.status}).`, response.status);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ApiRequestError(`Unexpected answer from ${path}.`, 0);
  return parsed.data;
}

const postJson = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

export const fetchTasks = (signal?: AbortSignal) => request(TaskList, "/api/tasks", { signal });
export const fetchTask = (id: string, signal?: AbortSignal) =>
  request(TaskDetail, `/api/tasks/${encodeURIComponent(id)}`, { signal });
/** The branches the base-branch field offers for a repository. */
export const fetchRepositoryBranches = (repository: string, signal?: AbortSignal) =>
  request(RepositoryBranchesResponse, `/api/repositories/branches?repository=${encodeURIComponent(repository)}`, { signal });
/** The branch's diff as of the newest turn (with its patch). */
export const fetchTaskDiff = (id: string, signal?: AbortSignal) => request(TaskDiffView, `/api/tasks/${encodeURIComponent(id)}/diff`, { signal });
/** A page of an attempt's whole agent output: the batches stored after `after`. */
export const fetchTaskOutput = (id: string, { attempt, after }: { attempt: number; after: number }, signal?: AbortSignal) =>
  request(TaskOutputPage, `/api/tasks/${encodeURIComponent(id)}/output?attempt=${attempt}&after=${after}`, { signal });
/** Where the browser downloads an attempt's whole output, as the agent wrote it (`text`) or as NDJSON. */
export const taskOutputDownloadUrl = (id: string, attempt: number, format: "text" | "ndjson") =>
  `/api/tasks/${encodeURIComponent(id)}/output?attempt=${attempt}&format=${format}`;
export const createTask = (input: CreateTaskRequest) => request(CreateTaskResponse, "/api/tasks", postJson(input));
export const cancelTask = (id: string) =>
  request(CancelTaskResponse, `/api/tasks/${encodeURIComponent(id)}/cancel`, { method: "POST" });
/** Pushes the task's held work again (`pushed: false` with why, if the remote still refuses). */
export const pushHeldWork = (id: string) => request(PushAgainResult, `/api/tasks/${encodeURIComponent(id)}/push`, { method: "POST" });
/** Deletes the task's held work from its node. */
export const discardHeldWork = (id: string) => request(DiscardWorkResult, `/api/tasks/${encodeURIComponent(id)}/discard`, { method: "POST" });
/** Runs a failed or cancelled task again, on its branch (409 for any other status). */
export const retryTask = (id: string) =>
  request(RetryTaskResponse, `/api/tasks/${encodeURIComponent(id)}/retry`, { method: "POST" });
/** A follow-up for the task's agent (queued while it works; 409 once the task has ended). */
export const sendTaskMessage = (id: string, input: SendMessageRequest) =>
  request(SendMessageResponse, `/api/tasks/${encodeURIComponent(id)}/messages`, postJson(input));
/** "Finish now": the task completes when the agent's current turn ends instead of waiting for a follow-up. */
export const finishTask = (id: string) =>
  request(FinishTaskResponse, `/api/tasks/${encodeURIComponent(id)}/finish`, { method: "POST" });
/** Sets the task's budget (0: no limit); raising it past the spend releases a task its budget held (422 at or under the spend). */
export const setTaskBudget = (id: string, budgetUsd: number) =>
  request(TaskBudgetView, `/api/tasks/${encodeURIComponent(id)}/budget`, { ...postJson({ budgetUsd }), method: "PUT" });

/** Best of N: the candidate that gets the task's pull request (any candidate's id names the group); its answer is the group after the pick. */
export const pickCandidate = (id: string, input: PickCandidateRequest) =>
  request(TaskGroupView, `/api/tasks/${encodeURIComponent(id)}/pick`, postJson(input));

/**
 * An id for one message, chosen here so a resend of it is the same message. `randomUUID` needs a
 * secure context (a team-mode app behind plain http has none); random bytes do as well.
 */
export function newClientId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** `?kind=` for one kind of error, nothing for all. */
const kindQuery = (kind: ErrorKind | null) => (kind ? `?kind=${encodeURIComponent(kind)}` : "");

/** `?all=1` also lists nodes that stopped more than a day ago. */
const allQuery = (all: boolean) => (all ? "?all=1" : "");

export const fetchNodes = (all: boolean, signal?: AbortSignal) => request(NodeList, `/api/nodes${allQuery(all)}`, { signal });
/** "Add a machine": a one-time install command for a machine of the caller's own. */
export const createMachineRegistration = () => request(CreatedMachineRegistration, "/api/machines/registrations", postJson({}));
export const destroyNode = (id: string, force: boolean) =>
  request(DestroyNodeResponse, `/api/nodes/${encodeURIComponent(id)}/destroy`, postJson({ force }));
/** Usage per person per UTC day over the last `days` days: the caller's own, or (`team`, admins only) everyone's. */
export const fetchUsage = (days: number, scope: UsageScope, signal?: AbortSignal) => request(UsageReport, `/api/usage?days=${days}&scope=${scope}`, { signal });
export type UsageScope = z.output<typeof UsageQuery>["scope"];
export const fetchErrors = (kind: ErrorKind | null, signal?: AbortSignal) => request(ErrorList, `/api/errors${kindQuery(kind)}`, { signal });

export const liveUrls = {
  tasks: () => "/api/events",
  task: (id: string) => `/api/tasks/${encodeURIComponent(id)}/events`,
  nodes: (all: boolean) => `/api/nodes/events${allQuery(all)}`,
  errors: (kind: ErrorKind | null) => `/api/errors/events${kindQuery(kind)}`,
} as const;

/** Who is signed in and in which mode the control plane runs; 401 (team mode) when nobody is. */
export const fetchMe = (signal?: AbortSignal) => request(Me, "/api/me", { signal });

/** Personal API tokens (team mode; local mode answers 409). */
export const fetchApiTokens = (signal?: AbortSignal) => request(ApiTokenList, "/api/tokens", { signal });
export const createApiToken = (input: CreateApiTokenRequest) => request(CreatedApiToken, "/api/tokens", postJson(input));
/**
 * Says JSON though it sends no body: a browser's bodiless DELETE carries no Content-Length, and the
 * request guard (team mode) then takes it for a body of no content type and refuses it (415).
 */
export const revokeApiToken = (id: string) =>
  request(ApiTokenView, `/api/tokens/${encodeURIComponent(id)}`, {
    method: "DELETE",
    headers: { "content-type": "application/json" },
  });

/** Invitations (team mode, an admin's): emails whose owners may sign in with GitHub. */
export const fetchInvitations = (signal?: AbortSignal) => request(InvitationList, "/api/invitations", { signal });
export const createInvitation = (input: CreateInvitationRequest) => request(InvitationView, "/api/invitations", postJson(input));
/** JSON though bodiless, for the same reason as revokeApiToken. */
export const removeInvitation = (email: string) =>
  request(z.object({ removed: z.literal(true) }), `/api/invitations?email=${encodeURIComponent(email)}`, { method: "DELETE", headers: { "content-type": "application/json" } });

export const fetchSecrets = (signal?: AbortSignal) => request(SecretList, "/api/secrets", { signal });
export const putSecret = ({ name, value }: { name: SecretName; value: string }) =>
  request(SecretView, `/api/secrets/${name}`, { ...postJson({ value }), method: "PUT" });
/** JSON though bodiless, for the same reason as revokeApiToken. */
export const deleteSecret = (name: SecretName) =>
  request(z.object({ name: z.string(), deleted: z.literal(true) }), `/api/secrets/${name}`, { method: "DELETE", headers: { "content-type": "application/json" } });

/** The person's network settings for their tasks' workspaces (the configured defaults until they save). */
export const fetchNetworkSettings = (signal?: AbortSignal) => request(NetworkSettingsView, "/api/settings/network", { signal });
export const putNetworkSettings = (settings: NetworkSettings) =>
  request(NetworkSettingsView, "/api/settings/network", { ...postJson(settings), method: "PUT" });

/** The person's spend limits per day and per month (their own or the configured ones) and what they spent. */
export const fetchBudgetSettings = (signal?: AbortSignal) => request(PersonBudgetsView, "/api/settings/budgets", { signal });
export const putBudgetSettings = (budgets: PersonBudgets) =>
  request(PersonBudgetsView, "/api/settings/budgets", { ...postJson(budgets), method: "PUT" });

/** better-auth's answer to starting an OAuth sign-in: where to send the browser. */
const OAuthRedirect = z.object({ url: z.string().url(), redirect: z.boolean() });

/**
 * Starts sign-in with GitHub: the answer's `url` is GitHub's consent page, which comes back
 * through /api/auth/callback/github to `callbackURL` (or to `errorCallbackURL` with `?error=`).
 * better-auth 1.7 serves generic OAuth providers through its social sign-in endpoint.
 */
export const startGithubSignIn = (urls: { callbackURL: string; errorCallbackURL: string }) =>
  request(OAuthRedirect, "/api/auth/sign-in/social", postJson({ provider: "github", ...urls }));

/** Ends this browser's session (its cookie is cleared by the answer). */
export const signOut = () => request(z.unknown(), "/api/auth/sign-out", postJson({}));
/** Local mode: ends this browser's session (DELETE /api/local-sign-in). */
export const localSignOut = () => request(z.unknown(), "/api/local-sign-in", { method: "DELETE", headers: { "content-type": "application/json" }, body: "{}" });
