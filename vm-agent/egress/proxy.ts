/**
 * The egress proxy of one workspace, listening on its Unix socket (the only way out of its
 * namespace): HTTP CONNECT to `host:port`, and plain HTTP requests with an absolute URI, forwarded
 * without hop-by-hop headers or the client's proxy credentials. Every connection is decided first
 * (policy.ts) and opened to an address the decision checked, never to a name resolved again. A
 * refusal answers 403 with one line saying what was blocked and why, and is reported (refusals.ts).
 * A request to the internal host (the vm-agent itself, for the git credential helper) is handed
 * to `internal`, never forwarded.
 */
import http from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import { DAEMON_INTERNAL_HOST } from "../../lib/contracts/node-layout";
import type { Logger } from "../log";
import { parseAuthority, type Decision } from "./policy";

export type EgressProxyOptions = {
  decide: (target: { host: string; port: number }) => Promise<Decision>;
  onRefused: (refusal: Extract<Decision, { allowed: false }>) => void;
  internal: (request: http.IncomingMessage, response: http.ServerResponse) => void;
  connectTimeoutMs: number;
  log: Logger;
};

const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade"];

/** The headers without hop-by-hop ones (those named in Connection too). */
function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = String(headers.connection ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.includes(name) && !named.includes(name)));
}

const shownTarget = (host: string, port: number) => `${host.includes(":") ? `[${host}]` : host}:${port}`;
export const refusalLine = (refusal: { host: string; port: number; reason: string }) => `blocked by the workspace's egress policy: ${shownTarget(refusal.host, refusal.port)} (${refusal.reason})`;

/** Opens a TCP connection to the first of `addresses` that answers within the timeout. */
function connectFirst(addresses: string[], port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const attempt = (index: number, lastError?: Error) => {
      if (index >= addresses.length) return reject(lastError ?? new Error("no address"));
      const socket = net.connect({ host: addresses[index]!, port });
      const fail = (error: Error) => {
        socket.destroy();
        attempt(index + 1, error);
      };
      socket.setTimeout(timeoutMs, () => fail(new Error(`no answer within ${timeoutMs} ms`)));
      socket.once("error", fail);
      socket.once("connect", () => {
        socket.setTimeout(0);
        socket.removeListener("error", fail);
        resolve(socket);
      });
    };
    attempt(0);
  });
}

function rawAnswer(socket: Duplex, status: string, text: string) {
  const body = `${text}\n`;
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** The proxy's server; `closeAll` ends every connection through it, tunnels included (closeAllConnections does not see those). */
export function createEgressProxy(options: EgressProxyOptions): http.Server & { closeAll: () => void } {
  const tunnels = new Set<Duplex>();
  const refused = (decision: Extract<Decision, { allowed: false }>) => {
    options.onRefused(decision);
    return refusalLine(decision);
  };

  const server = http.createServer((request, response) => {
    const answer = (status: number, text: string) => {
      response.writeHead(status, { "content-type": "text/plain; charset=utf-8", connection: "close" });
      response.end(`${text}\n`);
    };
    let url: URL;
    try {
      url = new URL(request.url ?? "");
    } catch {
      return answer(400, refused({ allowed: false, host: "(none)", port: 0, reason: "malformed" }));
    }
    const port = Number(url.port || 80);
    if (url.protocol !== "http:") return answer(400, refused({ allowed: false, host: url.hostname || "(none)", port, reason: "malformed" }));
    if (url.hostname === DAEMON_INTERNAL_HOST) return options.internal(request, response);
    void (async () => {
      const decision = await options.decide({ host: url.hostname, port });
      if (!decision.allowed) return answer(403, refused(decision));
      let socket: net.Socket;
      try {
        socket = await connectFirst(decision.addresses, port, options.connectTimeoutMs);
      } catch (error) {
        return answer(502, `could not connect to ${shownTarget(decision.host, port)}: ${(error as Error).message}`);
      }
      // The Host the policy decided on, not one the client wrote beside it (another site on the same address).
      const upstream = http.request({ method: request.method, path: `${url.pathname}${url.search}`, headers: { ...endToEnd(request.headers), host: url.host }, createConnection: () => socket });
      // A client that leaves (or a daemon that closes) ends the upstream request too.
      response.on("close", () => {
        if (!response.writableFinished) socket.destroy();
      });
      upstream.on("response", (answer) => {
        response.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
        answer.pipe(response);
      });
      upstream.on("error", (error) => {
        if (!response.headersSent) answer(502, `${shownTarget(decision.host, port)}: ${error.message}`);
        else response.destroy();
      });
      request.pipe(upstream);
    })().catch((error: unknown) => {
      options.log.error("egress proxy request failed", { error: String(error) });
      if (!response.headersSent) answer(500, "the egress proxy failed");
    });
  });

  server.on("connect", (request: http.IncomingMessage, client: Duplex, head: Buffer) => {
    client.on("error", () => client.destroy());
    const target = parseAuthority(request.url ?? "");
    if (!target) return rawAnswer(client, "400 Bad Request", refused({ allowed: false, host: (request.url ?? "").slice(0, 255) || "(none)", port: 0, reason: "malformed" }));
    void (async () => {
      const decision = await options.decide(target);
      if (!decision.allowed) return rawAnswer(client, "403 Forbidden", refused(decision));
      let upstream: net.Socket;
      try {
        upstream = await connectFirst(decision.addresses, target.port, options.connectTimeoutMs);
      } catch (error) {
        return rawAnswer(client, "502 Bad Gateway", `could not connect to ${shownTarget(decision.host, target.port)}: ${(error as Error).message}`);
      }
      tunnels.add(client);
      client.on("close", () => tunnels.delete(client));
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    })().catch((error: unknown) => {
      options.log.error("egress proxy tunnel failed", { error: String(error) });
      client.destroy();
    });
  });
  return Object.assign(server, {
    closeAll() {
      server.closeAllConnections();
      for (const tunnel of tunnels) tunnel.destroy();
    },
  });
}
