/**
 * Each workspace's GitHub token, kept by the daemon and handed to git only by a credential helper
 * (agents/git-credential.mjs): never in a URL, an argument list, `.git/config` or a log. A
 * workspace's record (`state/credentials/<id>.json`, owner-only) holds the token, the host of its
 * https repository (the one host the token is given for, and only when it is one of the configured
 * forge hosts the control plane names: a task cannot send the token to a host of its choosing;
 * otherwise the record keeps no host and no token) and the ticket its agents' helper presents
 * to the daemon (`POST /workspaces/{id}/git-credential`); the ticket is only in the agent's
 * environment file. The record outlives a daemon restart, so an adopted agent and the daemon's own
 * push still get credentials; deleting the workspace removes it. The daemon's own git reads the
 * record through the helper, and only in calls that read no config the agent can write
 * (git.ts, PushSource).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import path from "node:path";
import { z } from "zod";
import { DAEMON_INTERNAL_HOST } from "../lib/contracts/node-layout";
import { helperScriptPath } from "./helper-scripts";
import { shellQuote } from "./runtime/env-file";
import { RecordStore, writeFileAtomic } from "./state/records";


/** The user name GitHub takes with a token as the password. */
export const GIT_USERNAME = "x-access-token";
/** The agent's environment variable that carries its workspace's ticket. */
export const TICKET_VARIABLE = "ACP_GIT_TICKET";

const CredentialRecord = z.object({ ticket: z.string(), host: z.string().optional(), token: z.string().optional() });
type CredentialRecord = z.infer<typeof CredentialRecord>;

/** What git asks a helper about (the fields that decide the answer). */
export const CredentialRequest = z.object({ protocol: z.string().max(64), host: z.string().max(512) });
export type CredentialRequest = z.infer<typeof CredentialRequest>;
export type CredentialAnswer = { username: string; password: string } | Record<string, never>;

/** A host as git names it, comparable: lower case, https's default port dropped. */
const normalHost = (host: string) => host.toLowerCase().replace(/:443$/, "");

/** The host of an https repository URL; undefined for anything else (a local path, ssh, http). */
export function httpsHost(repository: string): string | undefined {
  try {
    const url = new URL(repository);
    return url.protocol === "https:" && url.host ? normalHost(url.host) : undefined;
  } catch {
    return undefined;
  }
}

/** The repository's https host when it is one of the forge hosts: the host its token may go to. */
export function tokenHost(repository: string, forgeHosts: readonly string[] | undefined): string | undefined {
  const host = httpsHost(repository);
  return host && forgeHosts?.some((forge) => normalHost(forge) === host) ? host : undefined;
}

/** A record's host and token: the token only when there is a host to give it to. */
const grant = (host: string | undefined, token: string | undefined) => (host ? { host, ...(token ? { token } : {}) } : {});

const digest = (text: string) => createHash("sha256").update(text).digest();
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

export class GitCredentials {
  private readonly records: RecordStore<typeof CredentialRecord>;
  /**
   * `endpointFile`: where the daemon's current address is written for the agents' helper (the port
   * can change on restart); outside the daemon's state, since the agents' users must read it.
   */
  private readonly helper: string;

  constructor(
    stateDir: string,
    private readonly endpointFile: string,
    helpersDir?: string,
  ) {
    this.helper = helperScriptPath("git-credential.mjs", helpersDir);
    this.records = new RecordStore(path.join(stateDir, "credentials"), CredentialRecord, { ownerOnly: true });
  }

  /**
   * Once the daemon listens: its address for the agents' helper (loopback when it listens on every
   * address) on the first line, then the certificate it serves, the one the helper trusts (it is
   * public; the helper sends its ticket to nothing else).
   */
  publishEndpoint(host: string, port: number, certificate: string) {
    const reachable = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "::1" : host;
    writeFileAtomic(this.endpointFile, `https://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}\n${certificate.trim()}\n`, 0o644);
  }

  /** A new workspace: the host of its repository if it is a forge's, the token of its create request (for that host only), a fresh ticket. */
  create(workspaceId: string, repository: string, token: string | undefined, forgeHosts: readonly string[] | undefined) {
    this.records.put(workspaceId, { ticket: randomBytes(32).toString("base64url"), ...grant(tokenHost(repository, forgeHosts), token) });
  }

  /**
   * Before an agent's turn: a token the start or follow-up request brings replaces the stored one
   * (a request without one keeps it), and forge hosts it brings decide the host anew (a request
   * without them keeps it). Returns the ticket for the agent's environment.
   */
  forTurn(workspace: { id: string; repository: string }, token: string | undefined, forgeHosts: readonly string[] | undefined): string {
    const current = this.records.get(workspace.id);
    if (!current) {
      this.create(workspace.id, workspace.repository, token, forgeHosts); // a workspace older than its record
      return this.records.get(workspace.id)!.ticket;
    }
    const host = forgeHosts === undefined ? current.host : tokenHost(workspace.repository, forgeHosts);
    const next: CredentialRecord = { ticket: current.ticket, ...grant(host, token ?? current.token) };
    if (next.host !== current.host || next.token !== current.token) this.records.put(workspace.id, next);
    return current.ticket;
  }

  /** The helper's question: "forbidden" for a wrong ticket, nothing unless it is https to the repository's host. */
  answer(workspaceId: string, ticket: string, request: CredentialRequest): CredentialAnswer | "forbidden" {
    const record = this.records.get(workspaceId);
    if (!record || !sameSecret(record.ticket, ticket)) return "forbidden";
    return matches(record, request) ? { username: GIT_USERNAME, password: record.token! } : {};
  }

  /** `-c` arguments for the daemon's own git (clone, push, ls-remote; never in a worktree): its helper reads the record. */
  daemonGit(workspaceId: string): string[] {
    return ["-c", `credential.helper=!${shellQuote(process.execPath)} ${shellQuote(this.helper)} file ${shellQuote(this.records.file(workspaceId))}`];
  }

  /**
   * The helper the worktree's git config names for the agent's git: it asks the daemon, and holds
   * no secret. With `proxy` (the workspace's egress proxy inside its namespace, where the daemon's
   * address is out of reach) it asks through the proxy, which hands the question to the daemon.
   */
  agentHelper(workspaceId: string, proxy?: string): string {
    if (proxy) return `!${shellQuote(process.execPath)} ${shellQuote(this.helper)} proxy ${shellQuote(proxy)} ${shellQuote(`http://${DAEMON_INTERNAL_HOST}/workspaces/${encodeURIComponent(workspaceId)}/git-credential`)}`;
    return `!${shellQuote(process.execPath)} ${shellQuote(this.helper)} ask ${shellQuote(this.endpointFile)} ${shellQuote(workspaceId)}`;
  }

  /** The workspace's secret values, for redaction. */
  secrets(workspaceId: string): string[] {
    const record = this.records.get(workspaceId);
    return record ? [record.ticket, ...(record.token ? [record.token] : [])] : [];
  }

  remove(workspaceId: string) {
    this.records.delete(workspaceId);
  }
}

function matches(record: CredentialRecord, request: CredentialRequest) {
  return !!record.token && !!record.host && request.protocol === "https" && normalHost(request.host) === record.host;
}
