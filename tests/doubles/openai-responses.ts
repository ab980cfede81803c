/**
 * A scripted stand-in for OpenAI's Responses API (POST /v1/responses), following its published
 * streaming contract: response.created, response.output_item.added / .done (a message or a
 * function_call), response.output_text.delta, response.completed with usage, and the documented
 * 429 error body. The Codex CLI that talks to it is the real one. Test tree only.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export type ResponsesTurn =
  | { kind: "function_call"; name: string; arguments: Record<string, unknown> }
  | { kind: "text"; text: string }
  | { kind: "error"; status: 429 };

type InputItem = { type?: string; role?: string; content?: unknown; output?: unknown };
export type RecordedResponsesRequest = { model: string; input: InputItem[]; tools: string[] };

/** `host`: where it listens (default loopback; see startAnthropicDouble). */
export async function startResponsesDouble(script: ResponsesTurn[], host = "127.0.0.1") {
  const requests: RecordedResponsesRequest[] = [];
  const turns = [...script];
  let n = 0;
  const server = http.createServer(async (request, response) => {
    let text = "";
    for await (const chunk of request) text += chunk;
    if (request.method !== "POST" || !request.url?.endsWith("/responses")) {
      response.writeHead(404, { "content-type": "application/json" });
      return response.end(JSON.stringify({ error: { message: `no route ${request.url}`, type: "invalid_request_error" } }));
    }
    const body = JSON.parse(text) as { model: string; input?: InputItem[]; tools?: { name?: string; type?: string }[] };
    requests.push({ model: body.model, input: body.input ?? [], tools: (body.tools ?? []).map((t) => t.name ?? t.type ?? "") });
    const turn = turns.shift() ?? { kind: "text", text: "Nothing left to do." };
    if (turn.kind === "error") {
      response.writeHead(429, { "content-type": "application/json", "retry-after": "1" });
      return response.end(JSON.stringify({ error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } }));
    }
    const id = `resp_${++n}`;
    const item =
      turn.kind === "function_call"
        ? { type: "function_call", id: `fc_${n}`, call_id: `call_${n}`, name: turn.name, arguments: JSON.stringify(turn.arguments), status: "completed" }
        : { type: "message", id: `msg_${n}`, role: "assistant", status: "completed", content: [{ type: "output_text", text: turn.text, annotations: [] }] };
    const usage = { input_tokens: 120, output_tokens: 24, total_tokens: 144, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } };
    const send = (event: Record<string, unknown>) => response.write(`event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`);
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    send({ type: "response.created", response: { id, object: "response", status: "in_progress", model: body.model, output: [] } });
    send({ type: "response.output_item.added", output_index: 0, item: { ...item, status: "in_progress" } });
    if (turn.kind === "text") send({ type: "response.output_text.delta", item_id: item.id, output_index: 0, content_index: 0, delta: turn.text });
    send({ type: "response.output_item.done", output_index: 0, item });
    send({ type: "response.completed", response: { id, object: "response", status: "completed", model: body.model, output: [item], usage } });
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/v1`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
