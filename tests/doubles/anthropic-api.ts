/**
 * A scripted stand-in for Anthropic's Messages API (POST /v1/messages), following its published
 * contract: streaming server-sent events (message_start, content_block_start, content_block_delta
 * with text_delta or input_json_delta, content_block_stop, message_delta, message_stop), tool use,
 * and the documented error bodies (429 rate_limit_error, 529 overloaded_error). Only the model is a
 * double; the Claude Code CLI that talks to it is the real one. Test tree only, never the product.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

/** The tokens a response reports (the API's `usage`); default 120 in, 24 out. */
export type ScriptedUsage = { input_tokens: number; output_tokens: number };

export type ScriptedTurn =
  | { kind: "tool_use"; name: string; input: Record<string, unknown>; usage?: ScriptedUsage }
  | { kind: "text"; text: string; usage?: ScriptedUsage }
  | { kind: "error"; status: 429 | 529 }
  /** Answers `then` only once `until` resolves: the model is "thinking" while a test acts. */
  | { kind: "held"; until: Promise<void>; then: Exclude<ScriptedTurn, { kind: "held" }> };

type MessageParam = { role: string; content: string | { type: string; text?: string; content?: unknown }[] };
export type RecordedRequest = {
  /** The `x-api-key` header the request carried (the API's authentication). */
  apiKey: string | undefined;
  model: string;
  stream: boolean;
  tools: string[];
  messages: MessageParam[];
  system?: unknown;
};

const ERROR_BODIES = {
  429: { type: "error", error: { type: "rate_limit_error", message: "Number of request tokens has exceeded your per-minute rate limit" } },
  529: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
} as const;

let ids = 0;
const id = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(++ids).toString(36)}`;

function sse(response: http.ServerResponse, event: string, data: unknown) {
  response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** Whether the conversation's last user turn carries a tool result (the agent ran our tool). */
const answersTool = (messages: MessageParam[]) => {
  const last = messages[messages.length - 1];
  return Array.isArray(last?.content) && last.content.some((c) => c.type === "tool_result");
};

/**
 * `script` holds the turns for the agent's main conversation (requests that offer tools), in order.
 * Side requests without tools (titles, summaries) get a short text answer and consume nothing.
 */
/**
 * `host`: where it listens (default loopback); a workspace in its own network namespace reaches it
 * only on an address its egress proxy lets through (this machine's non-loopback one, allowed).
 */
export async function startAnthropicDouble(script: ScriptedTurn[], host = "127.0.0.1") {
  const requests: RecordedRequest[] = [];
  const turns = [...script];
  let heldRequests = 0;
  let onHeld: (() => void) | undefined;
  const heldReached = new Promise<void>((resolve) => (onHeld = resolve));
  const server = http.createServer(async (request, response) => {
    let text = "";
    for await (const chunk of request) text += chunk;
    const url = new URL(request.url ?? "/", "http://double");
    if (request.method !== "POST" || !url.pathname.endsWith("/v1/messages")) {
      if (url.pathname.endsWith("/count_tokens")) {
        response.writeHead(200, { "content-type": "application/json" });
        return response.end(JSON.stringify({ input_tokens: 100 }));
      }
      response.writeHead(404, { "content-type": "application/json" });
      return response.end(JSON.stringify({ type: "error", error: { type: "not_found_error", message: `no route ${url.pathname}` } }));
    }
    const body = JSON.parse(text) as { model: string; stream?: boolean; tools?: { name: string }[]; messages: MessageParam[]; system?: unknown };
    const apiKey = typeof request.headers["x-api-key"] === "string" ? request.headers["x-api-key"] : undefined;
    const recorded: RecordedRequest = { apiKey, model: body.model, stream: !!body.stream, tools: (body.tools ?? []).map((t) => t.name), messages: body.messages, system: body.system };
    requests.push(recorded);
    const main = recorded.tools.length > 0;
    let turn: ScriptedTurn = main ? (turns.shift() ?? { kind: "text", text: "Nothing left to do." }) : { kind: "text", text: "Agent task" };
    if (turn.kind === "held") {
      const held = turn;
      heldRequests++;
      onHeld?.();
      // A client that leaves before the turn is answered (its connection cut, as a proxy's restart
      // does) has not had it: the turn goes back for its retry.
      let left = false;
      const putBack = () => {
        left = true;
        turns.unshift(held);
      };
      request.socket.once("close", putBack);
      await held.until;
      if (left) return;
      request.socket.removeListener("close", putBack);
      turn = held.then;
    }

    if (turn.kind === "error") {
      response.writeHead(turn.status, { "content-type": "application/json", ...(turn.status === 429 ? { "retry-after": "1" } : {}) });
      return response.end(JSON.stringify(ERROR_BODIES[turn.status]));
    }
    const messageId = id("msg");
    const block =
      turn.kind === "tool_use"
        ? { type: "tool_use", id: id("toolu"), name: turn.name, input: turn.input }
        : { type: "text", text: turn.text };
    const stopReason = turn.kind === "tool_use" ? "tool_use" : "end_turn";
    const usage = turn.usage ?? { input_tokens: 120, output_tokens: 24 };

    if (!body.stream) {
      response.writeHead(200, { "content-type": "application/json" });
      return response.end(
        JSON.stringify({ id: messageId, type: "message", role: "assistant", model: body.model, content: [block], stop_reason: stopReason, stop_sequence: null, usage }),
      );
    }
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    sse(response, "message_start", {
      type: "message_start",
      message: { id: messageId, type: "message", role: "assistant", model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: usage.input_tokens, output_tokens: 1 } },
    });
    if (block.type === "tool_use") {
      sse(response, "content_block_start", { type: "content_block_start", index: 0, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } });
      const json = JSON.stringify(block.input);
      // Split the input in two deltas, as the real API streams partial JSON.
      const half = Math.ceil(json.length / 2);
      for (const part of [json.slice(0, half), json.slice(half)]) {
        sse(response, "content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: part } });
      }
    } else {
      sse(response, "content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
      for (const word of (block.text ?? "").split(/(?<= )/)) {
        sse(response, "content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: word } });
      }
    }
    sse(response, "content_block_stop", { type: "content_block_stop", index: 0 });
    sse(response, "message_delta", { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
    sse(response, "message_stop", { type: "message_stop" });
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    requests,
    /** How many requests reached a held turn (the agent is waiting on the model). */
    held: () => heldRequests,
    /** Resolves when the first request reaches a held turn. */
    heldReached,
    /** Requests of the agent's main conversation (those that offered tools). */
    mainRequests: () => requests.filter((r) => r.tools.length > 0),
    answersTool,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
