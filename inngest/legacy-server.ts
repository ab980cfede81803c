/**
 * The pinned Inngest server (v1.1.0) does not know the SDK v4 `StepFailed` opcode, sent when a
 * step fails for the last time: it would fail the run half a minute later with a garbled message.
 * The older `StepError` opcode makes it fail the run at once with the real error, and `onFailure`
 * receives it. This rewrite applies only when INNGEST_LEGACY_SERVER is on.
 */
type Handler<R extends Request, C> = (request: R, context: C) => Promise<Response>;

/** Rewrites `StepFailed` ops in a serve response body; other bodies pass through untouched. */
export function downgradeOpcodes(body: string): string {
  if (!body.includes('"StepFailed"')) return body;
  const parsed: unknown = JSON.parse(body);
  const rewrite = (op: unknown) =>
    op && typeof op === "object" && (op as { op?: unknown }).op === "StepFailed" ? { ...op, op: "StepError" } : op;
  return JSON.stringify(Array.isArray(parsed) ? parsed.map(rewrite) : rewrite(parsed));
}

export function forLegacyServer<R extends Request, C>(handler: Handler<R, C>, enabled: boolean): Handler<R, C> {
  if (!enabled) return handler;
  return async (request, context) => {
    const response = await handler(request, context);
    if (!(response.headers.get("content-type") ?? "").includes("json")) return response;
    const body = await response.text();
    const headers = new Headers(response.headers);
    headers.delete("content-length");
    return new Response(downgradeOpcodes(body), { status: response.status, statusText: response.statusText, headers });
  };
}
