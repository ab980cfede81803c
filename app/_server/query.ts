/** Parses a request's query string with a contract schema; a bad value is a 422 naming the parameter. */
import type { z } from "zod";
import { HttpError } from "./http/respond";

export function parseQuery<S extends z.ZodType>(request: Request, schema: S): z.infer<S> {
  const params = Object.fromEntries(new URL(request.url).searchParams);
  const result = schema.safeParse(params);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join(".") || undefined;
  throw new HttpError(422, field ? `${field} ${issue.message}` : issue.message, field);
}
