/** How every route answers: JSON bodies, `{error, field}` for problems, zod issues named by field. */
import type { z } from "zod";
import type { ApiError } from "../contracts/api";

export const json = (body: unknown, status = 200) => Response.json(body, { status });

export const problem = (status: number, error: string, field?: string) =>
  json({ error, ...(field ? { field } : {}) } satisfies ApiError, status);

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Parses a JSON body with a schema; a bad body becomes a 400/422 naming the field. */
export async function parseBody<S extends z.ZodType>(request: Request, schema: S): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    const text = await request.text();
    raw = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new HttpError(400, "the request body is not valid JSON");
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.join(".") || undefined;
    throw new HttpError(422, field ? `${field} ${issue.message}` : issue.message, field);
  }
  return result.data;
}

/** Maps anything a handler throws to a response: HttpError as itself, the rest as a logged 500. */
export function errorResponse(error: unknown): Response {
  if (error instanceof HttpError) return problem(error.status, error.message, error.field);
  console.error(JSON.stringify({ level: "error", msg: "request failed", error: String((error as Error)?.stack ?? error) }));
  return problem(500, "internal error");
}
