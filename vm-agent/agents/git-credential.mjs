// A workspace's git credential helper (git-credential(1): git runs it with `get`, `store` or
// `erase` last and the request on stdin). It answers `get` only, and only for https to the host of
// the workspace's repository: username=x-access-token, password=<the owner's GitHub token>.
// Otherwise it prints nothing, and git goes on as it would without credentials.
//   file <record>                        the daemon's own git: reads the workspace's owner-only record
//   ask <endpoint file> <workspace id>   an agent's git: asks the daemon with the ticket in $ACP_GIT_TICKET
//                                        over HTTPS, trusting only the certificate the endpoint file names
//   proxy <proxy url> <question url>     an agent's git in its workspace's network namespace: asks the same
//                                        through the workspace's egress proxy (plain HTTP to the proxy on
//                                        the namespace's loopback; the proxy hands it to the daemon)
// Plain JavaScript without dependencies: git starts it with node from inside the worktree.
import fs from "node:fs";
import http from "node:http";
import https from "node:https";

const args = process.argv.slice(2);
if (args.at(-1) !== "get") process.exit(0);

/** The request's `key=value` lines. */
const request = {};
for (const line of fs.readFileSync(0, "utf8").split("\n")) {
  const at = line.indexOf("=");
  if (at > 0) request[line.slice(0, at)] = line.slice(at + 1);
}

/**
 * POSTs `body` to the daemon: over HTTPS to the certificate it published beside its address (the
 * trust anchor is that very certificate, so its name and dates are not what is checked).
 */
function askDaemon(endpointFile, pathname, body) {
  const [endpoint, ...certificateLines] = fs.readFileSync(endpointFile, "utf8").trim().split("\n");
  return post(https, new URL(pathname, endpoint), { ca: certificateLines.join("\n"), checkServerIdentity: () => undefined }, {}, body);
}

/** POSTs `body` to `questionUrl` through the HTTP proxy at `proxyUrl` (an absolute URI, as to any proxy). */
function askThroughProxy(proxyUrl, questionUrl, body) {
  const proxy = new URL(proxyUrl);
  return post(http, { host: proxy.hostname, port: Number(proxy.port || 80), path: questionUrl }, {}, { host: new URL(questionUrl).host }, body);
}

/** One POST with the workspace's ticket: the status and the text of the answer. */
function post(transport, target, options, headers, body) {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const settings = {
      ...options,
      method: "POST",
      headers: { ...headers, authorization: `Bearer ${process.env.ACP_GIT_TICKET}`, "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
      timeout: 10_000,
    };
    const onResponse = (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
      response.on("error", reject);
    };
    // `request(url, options, …)` takes a URL first; a host, port and path go in the options.
    const request = target instanceof URL ? transport.request(target, settings, onResponse) : transport.request({ ...target, ...settings }, onResponse);
    request.on("timeout", () => request.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
    request.on("error", reject);
    request.end(payload);
  });
}

/** Writes the answer; a value that would break the line protocol is no answer. */
function answer(credential) {
  const { username, password } = credential ?? {};
  if (typeof username !== "string" || typeof password !== "string" || !username || !password) return;
  if (/[\n\0]/.test(username + password)) return;
  process.stdout.write(`username=${username}\npassword=${password}\n`);
}

try {
  if (args[0] === "file") {
    const record = JSON.parse(fs.readFileSync(args[1], "utf8"));
    // As the daemon compares (git-credentials.ts): lower case, https's default port dropped.
    const host = (request.host ?? "").toLowerCase().replace(/:443$/, "");
    const forRepository = typeof record.host === "string" && request.protocol === "https" && host === record.host;
    if (forRepository && record.token) answer({ username: "x-access-token", password: record.token });
  } else if (args[0] === "ask" && process.env.ACP_GIT_TICKET) {
    const response = await askDaemon(args[1], `/workspaces/${encodeURIComponent(args[2] ?? "")}/git-credential`, { protocol: request.protocol ?? "", host: request.host ?? "" });
    if (response.status >= 200 && response.status < 300) answer(JSON.parse(response.text));
    else process.stderr.write(`git credential helper: the vm-agent answered ${response.status}\n`);
  } else if (args[0] === "proxy" && process.env.ACP_GIT_TICKET) {
    const response = await askThroughProxy(args[1], args[2], { protocol: request.protocol ?? "", host: request.host ?? "" });
    if (response.status >= 200 && response.status < 300) answer(JSON.parse(response.text));
    else process.stderr.write(`git credential helper: the vm-agent answered ${response.status} through the egress proxy\n`);
  }
} catch (error) {
  // Only the kind of failure: a message could quote what it failed on.
  process.stderr.write(`git credential helper: no credentials (${error?.code ?? error?.name ?? "error"})\n`);
}
