/** Typed calls to the control plane's API; every answer is checked against the shared contract. */
import type { z } from "zod";
import { ApiError, CreateTaskResponse, TaskDetail, TaskList, type CreateTaskRequest } from "@/lib/contracts/api";

export class RequestFailed extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly field?: string,
  ) {
    super(message);
  }
}

async function call<S extends z.ZodType>(schema: S, input: string, init?: RequestInit): Promise<z.infer<S>> {
  const response = await fetch(input, init);
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const problem = ApiError.safeParse(body);
    throw new RequestFailed(problem.success ? problem.data.error : `request failed (${response.status})`, response.status, problem.success ? problem.data.field : undefined);
  }
  return schema.parse(body);
}

export const fetchTasks = () => call(TaskList, "/api/tasks");
export const fetchTask = (id: string) => call(TaskDetail, `/api/tasks/${id}`);
export const createTask = (input: CreateTaskRequest) =>
  call(CreateTaskResponse, "/api/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(input) });
export const cancelTask = (id: string) => fetch(`/api/tasks/${id}/cancel`, { method: "POST" });
