/** How every route answers: JSON bodies, `{error, field}` for problems, zod issues named by field. */
import type { z } from "zod";
import type { ApiError } from "@/lib/contracts/api";
import { MigrationsPendingError } from "@/db/migrations";
import { config } from "@/lib/config";
import { log } from "@/lib/log";

export const json = (body: unknown, status = 200) => Response.json(body, { status });

export const problem = (status: number, error: string, field?: string, headers?: Record<string, string>) =>
  Response.json({ error, ...(field ? { field } : {}) } satisfies ApiError, { status, headers });

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    /** Extra response headers (Retry-After on a 429). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

/** Reads a body of at most `maxBytes`, refusing a larger one (413) before it is all read, whatever its Content-Length says. */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  const tooLarge = () => new HttpError(413, `the request body is larger than ${maxBytes} bytes`, "body");
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) throw tooLarge();
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Parses a JSON body with a schema; a bad body becomes a 400/413/422 naming the field. */
export async function parseBody<S extends z.ZodType>(request: Request, schema: S, maxBytes = config().MAX_REQUEST_BODY_BYTES): Promise<z.infer<S>> {
  const text = await readBodyText(request, maxBytes);
  let raw: unknown;
  try {
    raw = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new HttpError(400, "the request body is not valid JSON", "body");
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
  if (error instanceof HttpError) return problem(error.status, error.message, error.field, error.headers);
  // A deploy that skipped its migration step: the operator's to fix, said plainly, until they do.
  if (error instanceof MigrationsPendingError) return problem(503, error.message);
  // A value the database refuses (Postgres class 22, data exception: text it cannot store, a number out of range) is the request's fault.
  if (isDataException(error)) return problem(422, "the request holds a value the database cannot store");
  log.error("request failed", { error: String((error as Error)?.stack ?? error) });
  return problem(500, "internal error");
}

function isDataException(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^22[0-9A-Z]{3}$/.test(code)) return true;
  }
  return false;
}
