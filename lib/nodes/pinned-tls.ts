/**
 * Every call to a node goes over HTTPS to the certificate the node reported in its authenticated
 * ready callback, and to no other. A node's certificate is self-signed, so no CA can vouch for it:
 * the pin is the trust. The check runs in the connector, after the TLS handshake and before undici
 * gets the socket, so not one byte of a request (its management token, a task's secrets) reaches a
 * machine that presents another certificate.
 *
 * Not `checkServerIdentity`: Node calls it only when the chain verified, which a self-signed
 * certificate never does, so with `rejectUnauthorized: false` it would never run. And no TLS session
 * cache: every connection makes a full handshake, so every connection shows its certificate.
 */
import { TLSSocket } from "node:tls";
import { Agent, buildConnector, fetch, type RequestInit, type Response } from "undici";
import type { CertificateFingerprint } from "../contracts/tls";
import { CONNECTION_IDLE } from "../contracts/vm-agent";

/** The node presented a certificate other than its pinned one: refused, and retrying cannot help. */
export class CertificatePinError extends Error {
  constructor(
    readonly nodeId: string,
    readonly pinned: CertificateFingerprint,
    /** Undefined when the endpoint did not speak TLS at all. */
    readonly presented: string | undefined,
  ) {
    super(
      presented === undefined
        ? `node ${nodeId} did not present a TLS certificate (pinned ${pinned}): refused`
        : `node ${nodeId} presented the TLS certificate ${presented}, not its pinned ${pinned}: refused (another machine at its address, or a daemon whose new certificate has not been reported by a ready callback)`,
    );
    this.name = "CertificatePinError";
  }
}

function pinnedAgent(nodeId: string, pinned: CertificateFingerprint): Agent {
  const connectTls = buildConnector({ rejectUnauthorized: false, maxCachedSessions: 0 });
  return new Agent({
    // Never past the node's own idle limit, whatever its Keep-Alive header says (CONNECTION_IDLE).
    keepAliveTimeout: CONNECTION_IDLE.CLIENT_MS,
    keepAliveMaxTimeout: CONNECTION_IDLE.CLIENT_MS,
    connect(options, callback) {
      connectTls(options, (error, socket) => {
        if (error) return callback(error, null);
        const presented = socket instanceof TLSSocket ? socket.getPeerCertificate().fingerprint256 : undefined;
        if (presented !== undefined && presented === pinned) return callback(null, socket);
        socket.destroy();
        callback(new CertificatePinError(nodeId, pinned, presented), null);
      });
    },
  });
}

/** Agents keep their connections alive between calls; one per node and pin, the oldest closed past this many. */
const MAX_AGENTS = 256;
const agents = new Map<string, Agent>();

function agentFor(nodeId: string, pinned: CertificateFingerprint): Agent {
  const key = `${nodeId} ${pinned}`;
  let agent = agents.get(key);
  if (agent) {
    // Most recently used last, so the one closed below is the least recently used.
    agents.delete(key);
  } else {
    agent = pinnedAgent(nodeId, pinned);
    const oldest = agents.size >= MAX_AGENTS ? agents.keys().next().value : undefined;
    if (oldest !== undefined) {
      void agents.get(oldest)?.close();
      agents.delete(oldest);
    }
  }
  agents.set(key, agent);
  return agent;
}

/**
 * `fetch` to a node's `https://` endpoint, refusing any certificate but the pinned one (the error's
 * `cause` is then a CertificatePinError). Plain http is refused before anything is sent.
 */
export function pinnedFetch(node: { id: string; certificateFingerprint: CertificateFingerprint }, url: URL, init: Omit<RequestInit, "dispatcher"> = {}): Promise<Response> {
  if (url.protocol !== "https:") return Promise.reject(new CertificatePinError(node.id, node.certificateFingerprint, undefined));
  return fetch(url, { ...init, dispatcher: agentFor(node.id, node.certificateFingerprint) });
}

/** The pin refusal behind a failed fetch, if that is why it failed. */
export function pinRefusal(error: unknown): CertificatePinError | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) if (cause instanceof CertificatePinError) return cause;
  return undefined;
}
