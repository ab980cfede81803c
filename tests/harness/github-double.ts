/**
 * A local double of GitHub's OAuth web flow and the two REST endpoints sign-in reads, following
 * GitHub's published contract (docs.github.com, "Authorizing OAuth apps"; REST "Users" and
 * "Emails"): GET /login/oauth/authorize shows a consent page whose button redirects back with
 * `code` and `state`; POST /login/oauth/access_token exchanges the code (client secret, redirect
 * URI and PKCE verifier checked; JSON when asked, form-encoded otherwise; errors as 200 with an
 * `error` field, as GitHub does); GET /user and GET /user/emails need the access token.
 * Membership, as REST "Organizations" and "Teams" describe it: GET /user/orgs (every membership
 * with scope read:org or user, else only public ones), GET /user/teams (403 without read:org, user
 * or repo), GET /orgs/{org}/members/{username} (204 a member, 404 not, 302 to the public list when
 * the asker is no member); lists are paginated (per_page up to 100, page, a Link to the next).
 */
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export type GithubUser = {
  id: number;
  login: string;
  name: string | null;
  email: string | null;
  emails: { email: string; primary: boolean; verified: boolean }[];
  /** Organisations the user belongs to (`public`: the membership is shown publicly). */
  orgs?: { login: string; public?: boolean }[];
  /** Teams the user belongs to, by organisation and slug. */
  teams?: { org: string; slug: string }[];
};

type Grant = { user: GithubUser; scope: string; redirectUri: string; challenge?: string; method?: string; used: boolean };
type Issued = { user: GithubUser; scopes: Set<string> };

export type GithubDouble = {
  url: string;
  clientId: string;
  clientSecret: string;
  /** Who is "signed in to GitHub" in the browser that reaches the consent page. */
  signInAs(user: GithubUser): void;
  /** The scopes each sign-in asked for, in order. */
  scopesAsked(): string[];
  /** Requests seen, by path (to check what the control plane asked for). */
  seen: { method: string; path: string }[];
  close(): Promise<void>;
};

const readBody = (request: http.IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    let text = "";
    request.on("data", (chunk: Buffer) => (text += chunk.toString()));
    request.on("end", () => resolve(text));
    request.on("error", reject);
  });

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function startGithubDouble(): Promise<GithubDouble> {
  const clientId = `Iv1.${randomBytes(8).toString("hex")}`;
  const clientSecret = randomBytes(20).toString("hex");
  const grants = new Map<string, Grant>();
  const tokens = new Map<string, Issued>();
  const seen: GithubDouble["seen"] = [];
  let current: GithubUser | undefined;

  const send = (response: http.ServerResponse, status: number, body: unknown, type = "application/json") => {
    response.writeHead(status, { "content-type": type });
    response.end(typeof body === "string" ? body : JSON.stringify(body));
  };

  let base = () => "";
  /** One page of a list as GitHub pages it: per_page (default 30, at most 100), page, and a Link to the next. */
  const sendPage = (response: http.ServerResponse, url: URL, items: unknown[]) => {
    const perPage = Math.min(Number(url.searchParams.get("per_page") ?? 30) || 30, 100);
    const page = Math.max(Number(url.searchParams.get("page") ?? 1) || 1, 1);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (page * perPage < items.length) headers.link = `<${base()}${url.pathname}?per_page=${perPage}&page=${page + 1}>; rel="next"`;
    response.writeHead(200, headers);
    response.end(JSON.stringify(items.slice((page - 1) * perPage, page * perPage)));
  };

  const server = http.createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? "/", "http://github.local");
      seen.push({ method: request.method ?? "GET", path: url.pathname });
      if (request.method === "GET" && url.pathname === "/login/oauth/authorize") {
        const q = url.searchParams;
        if (q.get("client_id") !== clientId) return send(response, 404, "<p>Not Found: unknown client_id</p>", "text/html");
        if (!current) return send(response, 401, "<p>Sign in to GitHub first</p>", "text/html");
        const approve = new URL("/login/oauth/authorize/approve", url);
        for (const key of ["redirect_uri", "state", "code_challenge", "code_challenge_method", "scope"]) if (q.get(key)) approve.searchParams.set(key, q.get(key)!);
        return send(
          response,
          200,
          `<!doctype html><title>Authorize application</title><h1>Authorize the control plane</h1><p>Signed in as ${escapeHtml(current.login)}; scopes ${escapeHtml(q.get("scope") ?? "")}</p><a id="authorize" href="${escapeHtml(approve.pathname + approve.search)}">Authorize</a>`,
          "text/html",
        );
      }
      if (request.method === "GET" && url.pathname === "/login/oauth/authorize/approve") {
        const q = url.searchParams;
        const code = randomBytes(10).toString("hex");
        grants.set(code, { user: current!, scope: q.get("scope") ?? "", redirectUri: q.get("redirect_uri")!, challenge: q.get("code_challenge") ?? undefined, method: q.get("code_challenge_method") ?? undefined, used: false });
        const back = new URL(q.get("redirect_uri")!);
        back.searchParams.set("code", code);
        if (q.get("state")) back.searchParams.set("state", q.get("state")!);
        response.writeHead(302, { location: back.toString() });
        return response.end();
      }
      if (request.method === "POST" && url.pathname === "/login/oauth/access_token") {
        const form = new URLSearchParams(await readBody(request));
        const basic = /^Basic (.+)$/i.exec(request.headers.authorization ?? "")?.[1];
        const [basicId, basicSecret] = basic ? Buffer.from(basic, "base64").toString().split(":").map(decodeURIComponent) : [];
        const id = form.get("client_id") ?? basicId;
        const secret = form.get("client_secret") ?? basicSecret;
        const answer = (body: Record<string, string>) =>
          /json/.test(request.headers.accept ?? "") ? send(response, 200, body) : send(response, 200, new URLSearchParams(body).toString(), "application/x-www-form-urlencoded");
        if (id !== clientId || secret !== clientSecret) return answer({ error: "incorrect_client_credentials", error_description: "The client_id and/or client_secret passed are incorrect." });
        const grant = grants.get(form.get("code") ?? "");
        if (!grant || grant.used) return answer({ error: "bad_verification_code", error_description: "The code passed is incorrect or expired." });
        if (form.get("redirect_uri") && form.get("redirect_uri") !== grant.redirectUri) return answer({ error: "redirect_uri_mismatch", error_description: "The redirect_uri MUST match the registered callback URL for this application." });
        if (grant.challenge) {
          const verifier = form.get("code_verifier") ?? "";
          const computed = grant.method === "S256" ? createHash("sha256").update(verifier).digest("base64url") : verifier;
          if (computed !== grant.challenge) return answer({ error: "bad_verification_code", error_description: "The code_verifier does not match the code_challenge." });
        }
        grant.used = true;
        const token = `gho_${randomBytes(18).toString("hex")}`;
        // GitHub grants what was asked (scopes separated by spaces or commas), and says so comma-separated.
        const scopes = new Set(grant.scope.split(/[\s,]+/).filter(Boolean));
        tokens.set(token, { user: grant.user, scopes });
        return answer({ access_token: token, token_type: "bearer", scope: [...scopes].join(",") });
      }
      const member = /^\/orgs\/([^/]+)\/members\/([^/]+)$/.exec(url.pathname);
      if (request.method === "GET" && (url.pathname.startsWith("/user") || member)) {
        const token = /^(?:Bearer|token) (\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
        const issued = token ? tokens.get(token) : undefined;
        if (!issued) return send(response, 401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
        const { user, scopes } = issued;
        const canReadOrgs = scopes.has("read:org") || scopes.has("user") || scopes.has("admin:org");
        if (url.pathname === "/user/emails") return send(response, 200, user.emails.map((e) => ({ ...e, visibility: e.primary ? "private" : null })));
        if (url.pathname === "/user") return send(response, 200, { login: user.login, id: user.id, name: user.name, email: user.email, avatar_url: `https://avatars.example/u/${user.id}` });
        if (url.pathname === "/user/orgs") {
          const visible = (user.orgs ?? []).filter((org) => canReadOrgs || org.public);
          return sendPage(response, url, visible.map((org, i) => ({ login: org.login, id: 9000 + i, url: `${base()}/orgs/${org.login}`, description: null })));
        }
        if (url.pathname === "/user/teams") {
          if (!canReadOrgs && !scopes.has("repo")) return send(response, 403, { message: "Resource not accessible by integration", documentation_url: "https://docs.github.com/rest/teams/teams#list-teams-for-the-authenticated-user" });
          return sendPage(response, url, (user.teams ?? []).map((team, i) => ({ id: 7000 + i, name: team.slug, slug: team.slug, privacy: "closed", permission: "pull", organization: { login: team.org, id: 9100 + i } })));
        }
        if (member) {
          const [, org = "", username = ""] = member;
          const belongs = (who: GithubUser) => (who.orgs ?? []).some((o) => o.login.toLowerCase() === org.toLowerCase());
          if (!belongs(user)) {
            response.writeHead(302, { location: `${base()}/orgs/${org}/public_members/${username}` });
            return response.end();
          }
          const target = [...tokens.values()].map((t) => t.user).find((u) => u.login.toLowerCase() === username.toLowerCase());
          if (target && belongs(target)) {
            response.writeHead(204);
            return response.end();
          }
          return send(response, 404, { message: "Not Found", documentation_url: "https://docs.github.com/rest/orgs/members#check-organization-membership-for-a-user" });
        }
      }
      send(response, 404, { message: "Not Found" });
    })().catch((error: unknown) => send(response, 500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  base = () => url;
  return {
    url,
    clientId,
    clientSecret,
    signInAs: (user) => (current = user),
    scopesAsked: () => [...grants.values()].map((grant) => grant.scope),
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
