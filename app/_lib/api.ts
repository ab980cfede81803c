/** Typed calls to the control plane's API; every answer is checked against the shared contract. */
import { z } from "zod";
import {
  ApiError,
  CancelTaskResponse,
  CreateTaskResponse,
  DestroyNodeResponse,
  ErrorList,
  NodeList,
  TaskDetail,
  TaskList,
  type CreateTaskRequest,
  type ErrorKind,
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
export const createTask = (input: CreateTaskRequest) => request(CreateTaskResponse, "/api/tasks", postJson(input));
export const cancelTask = (id: string) =>
  request(CancelTaskResponse, `/api/tasks/${encodeURIComponent(id)}/cancel`, { method: "POST" });

/** `?kind=` for one kind of error, nothing for all. */
const kindQuery = (kind: ErrorKind | null) => (kind ? `?kind=${encodeURIComponent(kind)}` : "");

/** `?all=1` also lists nodes that stopped more than a day ago. */
const allQuery = (all: boolean) => (all ? "?all=1" : "");

export const fetchNodes = (all: boolean, signal?: AbortSignal) => request(NodeList, `/api/nodes${allQuery(all)}`, { signal });
export const destroyNode = (id: string, force: boolean) =>
  request(DestroyNodeResponse, `/api/nodes/${encodeURIComponent(id)}/destroy`, postJson({ force }));
export const fetchErrors = (kind: ErrorKind | null, signal?: AbortSignal) => request(ErrorList, `/api/errors${kindQuery(kind)}`, { signal });

export const liveUrls = {
  tasks: () => "/api/events",
  task: (id: string) => `/api/tasks/${encodeURIComponent(id)}/events`,
  nodes: (all: boolean) => `/api/nodes/events${allQuery(all)}`,
  errors: (kind: ErrorKind | null) => `/api/errors/events${kindQuery(kind)}`,
} as const;
