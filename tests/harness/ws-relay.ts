/**
 * A WebSocket-to-TCP relay, so Neon's serverless driver (which speaks WebSocket) can reach a plain
 * PostgreSQL server in tests. The target comes from `?address=host:port`; only loopback is allowed.
 */
import net from "node:net";
import { WebSocketServer, createWebSocketStream } from "ws";

export async function startWsRelay(): Promise<{ proxy: string; close(): Promise<void> }> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  server.on("connection", (socket, request) => {
    const address = new URL(request.url ?? "/", "http://relay").searchParams.get("address") ?? "";
    const match = /^(127\.0\.0\.1|localhost):(\d+)$/.exec(address);
    if (!match) {
      socket.close(1008, "loopback addresses only");
      return;
    }
    const tcp = net.connect(Number(match[2]), "127.0.0.1");
    const stream = createWebSocketStream(socket);
    stream.pipe(tcp).pipe(stream);
    const end = () => {
      tcp.destroy();
      stream.destroy();
    };
    tcp.on("error", end);
    stream.on("error", end);
  });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  return {
    proxy: `127.0.0.1:${port}/v1`,
    close: () =>
      new Promise((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
