/**
 * A round-robin HTTP load balancer in front of several app instances, as a deployment puts one in
 * front of its Node hosts: each request goes to the next instance (skipping one that refuses the
 * connection), streamed both ways, so server-sent events pass through. It records which instance
 * served which path, so a test can see that callbacks and the engine's calls reached each one. With
 * one backend and a certificate it is the HTTPS front of a single instance.
 */
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";

export type Balancer = {
  url: string;
  /** Each request as it was served: the backend's index and the request's method and path. */
  served: { backend: number; method: string; path: string }[];
  close(): Promise<void>;
};

/** `tls`: serve HTTPS with this key and certificate, as a deployment's public address does (TLS ends here). */
export async function startBalancer(backends: string[], tls?: { key: string; cert: string }): Promise<Balancer> {
  const served: Balancer["served"] = [];
  let next = 0;
  const handle = async (request: http.IncomingMessage, response: http.ServerResponse) => {
    // Requests are small: read whole, so one that an instance refused can go to the next intact.
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const forward = (tries: number) => {
      const backend = next++ % backends.length;
      const target = new URL(request.url ?? "/", backends[backend]);
      const upstream = http.request(target, { method: request.method, headers: { ...request.headers, host: target.host } }, (answer) => {
        served.push({ backend, method: request.method ?? "GET", path: target.pathname });
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      });
      upstream.on("error", (error: NodeJS.ErrnoException) => {
        // An instance not up yet (or gone): the next one gets the request, as a balancer's health check would arrange.
        if (error.code === "ECONNREFUSED" && tries < backends.length) return forward(tries + 1);
        if (!response.headersSent) response.writeHead(502).end(error.message);
        else response.destroy();
      });
      upstream.end(body);
    };
    forward(1);
  };
  const server = tls ? https.createServer(tls, handle) : http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
