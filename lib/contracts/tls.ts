/**
 * TLS between the control plane and its nodes, the parts both sides must agree on. A vm-agent serves
 * HTTPS with a self-signed certificate it made at first boot and reports its fingerprint in the
 * authenticated ready callback; the control plane pins that fingerprint for every later call
 * (lib/nodes/pinned-tls.ts). Plain zod and strings: the contract module, which the browser bundle
 * reaches, imports this.
 */
import { z } from "zod";

/**
 * SHA-256 of the certificate's DER, as 32 upper-case hex pairs joined by colons: exactly what Node
 * gives both sides (`X509Certificate.fingerprint256` on the node, a peer certificate's
 * `fingerprint256` on the control plane), and what `openssl x509 -fingerprint -sha256` prints, so an
 * operator can compare it by eye.
 */
export const CertificateFingerprint = z
  .string()
  .regex(/^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/, "must be a SHA-256 certificate fingerprint (32 upper-case hex pairs joined by colons)");
export type CertificateFingerprint = z.infer<typeof CertificateFingerprint>;

/**
 * Where a vm-agent keeps its key and certificate, under its work folder. The local provider reads
 * the certificate there too (it is on this machine): a node whose ready callback was lost can then
 * still be pinned (lib/nodes/monitor.ts).
 */
export const nodeTlsFiles = (workDir: string) => {
  const dir = `${workDir.replace(/\/+$/, "")}/tls`;
  return { dir, key: `${dir}/key.pem`, certificate: `${dir}/cert.pem` };
};

/** A name or address that never leaves this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host.endsWith(".localhost") || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Why a node may not send its callbacks (tokens, the agents' output) to `url`, or undefined when it
 * may: anything that leaves the machine must be HTTPS. Plain http is left for loopback, where the
 * control plane and the node share the machine.
 */
export function callbackUrlProblem(url: string): string | undefined {
  if (!URL.canParse(url)) return "is not a URL";
  const parsed = new URL(url);
  if (parsed.protocol === "https:") return undefined;
  if (parsed.protocol !== "http:") return `must be an https:// URL, not ${parsed.protocol}`;
  if (isLoopbackHost(parsed.hostname)) return undefined;
  return `must be https:// for a control plane that is not on this machine (${parsed.hostname} is not a loopback address): callbacks carry tokens and the agents' output`;
}
