/**
 * For the vm-agent's tests: a git server over HTTPS. git's own `git http-backend` (CGI) behind a
 * Node https server whose certificate is made here; like GitHub with a token, it wants HTTP Basic
 * auth as `x-access-token` with that token, for every request or (`publicRead`) for pushes only.
 * Clients trust it through `http.sslCAInfo` = `caFile` in their git config.
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import type http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { makeRepo } from "../tests/harness/git";
import { loopbackCertificate } from "./test-support";

export type GitRequest = { path: string; push: boolean; authorized: boolean; authorization: string | undefined };

/** Other routes the same host serves (a forge's API beside its repositories); true when it answered. */
export type ExtraRoutes = (request: http.IncomingMessage, response: http.ServerResponse, webUrl: string) => Promise<boolean>;

/** `host`: the address it listens on and its certificate names (default loopback; a workspace behind its egress proxy needs another, allowed). */
export async function startHttpsGitServer(options: { token: string; publicRead?: boolean; files?: Record<string, string>; routes?: ExtraRoutes; host?: string }) {
  const host = options.host ?? "127.0.0.1";
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "acp-https-git-"));
  // The certificate is read by every workspace's user too (GIT_SSL_CAINFO); the key stays private.
  fs.chmodSync(root, 0o755);
  const { key, cert, certFile: caFile } = loopbackCertificate(root, host);
  const projects = path.join(root, "repos");
  const bare = path.join(projects, "org", "repo.git");
  execFileSync("git", ["clone", "--quiet", "--bare", makeRepo(options.files ?? {}), bare]);
  execFileSync("git", ["-C", bare, "config", "http.receivepack", "true"]);
  const requests: GitRequest[] = [];

  let webUrl = "";
  const server = https.createServer({ key, cert }, (request, response) => {
    if (!options.routes) return serveGit(request, response);
    options.routes(request, response, webUrl).then(
      (answered) => answered || serveGit(request, response),
      (error: unknown) => {
        response.writeHead(500, { "content-type": "text/plain" });
        response.end(String(error));
      },
    );
  });
  const serveGit = (request: http.IncomingMessage, response: http.ServerResponse) => {
    const url = new URL(request.url ?? "/", "https://git.test");
    const push = url.searchParams.get("service") === "git-receive-pack" || url.pathname.endsWith("/git-receive-pack");
    const basic = /^Basic (.+)$/i.exec(request.headers.authorization ?? "")?.[1];
    const authorized = basic !== undefined && Buffer.from(basic, "base64").toString("utf8") === `x-access-token:${options.token}`;
    requests.push({ path: url.pathname, push, authorized, authorization: request.headers.authorization });
    if (!authorized && (push || !options.publicRead)) {
      response.writeHead(401, { "www-authenticate": 'Basic realm="git"' });
      return response.end();
    }
    const protocol = request.headers["git-protocol"];
    const cgiEnv: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      GIT_PROJECT_ROOT: projects,
      GIT_HTTP_EXPORT_ALL: "1",
      REQUEST_METHOD: request.method ?? "GET",
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: request.headers["content-type"] ?? "",
      ...(request.headers["content-length"] ? { CONTENT_LENGTH: request.headers["content-length"] } : {}),
      ...(request.headers["content-encoding"] ? { HTTP_CONTENT_ENCODING: request.headers["content-encoding"] } : {}),
      ...(typeof protocol === "string" ? { GIT_PROTOCOL: protocol } : {}),
      REMOTE_USER: authorized ? "x-access-token" : "",
      REMOTE_ADDR: "127.0.0.1",
    };
    const cgi = spawn("git", ["http-backend"], { env: cgiEnv as NodeJS.ProcessEnv });
    request.pipe(cgi.stdin);
    const out: Buffer[] = [];
    cgi.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    cgi.on("close", () => {
      const whole = Buffer.concat(out);
      const split = whole.indexOf("\r\n\r\n");
      const head = whole.subarray(0, split).toString("utf8").split("\r\n");
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head) {
        const [name = "", ...rest] = line.split(":");
        if (name.toLowerCase() === "status") status = Number(rest.join(":").trim().split(" ")[0]);
        else if (name) headers[name] = rest.join(":").trim();
      }
      response.writeHead(status, headers);
      response.end(whole.subarray(split + 4));
    });
  };
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const port = (server.address() as AddressInfo).port;
  webUrl = `https://${host}:${port}`;
  return {
    url: `https://${host}:${port}/org/repo.git`,
    host: `${host}:${port}`,
    caFile,
    bare,
    requests,
    /** The commit a branch points at in the served repository, or undefined. */
    branch(name: string): string | undefined {
      try {
        return execFileSync("git", ["-C", bare, "rev-parse", "--verify", "--quiet", `refs/heads/${name}`], { encoding: "utf8" }).trim();
      } catch {
        return undefined;
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A HOME whose git config trusts the server's certificate (for the daemon, its agents and the test's own git). */
export function homeTrusting(caFile: string): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "acp-home-"));
  fs.writeFileSync(path.join(home, ".gitconfig"), `[http]\n\tsslCAInfo = ${caFile}\n`);
  return home;
}
