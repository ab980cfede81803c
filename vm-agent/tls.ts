/**
 * The vm-agent's own TLS identity: an ECDSA P-256 key and a self-signed certificate, made at first
 * start and kept in the work folder (`tls/`, owner-only; the key file 0600), so every later start
 * serves the same certificate and the control plane's pin stays valid across daemon restarts. They
 * are made again only when missing, unreadable, not a pair, or expired; the next ready callback then
 * reports the new fingerprint. Pure JavaScript (@peculiar/x509 over Node's WebCrypto): the node
 * needs no openssl.
 */
// tsyringe, which @peculiar/x509 uses, needs the Reflect metadata API before @peculiar/x509 loads.
import "reflect-metadata";
import { createPrivateKey, createPublicKey, randomBytes, webcrypto, X509Certificate } from "node:crypto";
import fs from "node:fs";
import * as x509 from "@peculiar/x509";
import { CertificateFingerprint, nodeTlsFiles } from "../lib/contracts/tls";
import { writeFileAtomic } from "./state/records";

export type TlsIdentity = {
  /** PEM, for node:https. */
  key: string;
  certificate: string;
  fingerprint: CertificateFingerprint;
  /** True when this start made them (the first start, or the old ones could not be used). */
  created: boolean;
};

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** The first start: nothing stored, nothing to report. */
const NONE_YET = "none yet";

/** The stored pair when it can serve now; why not otherwise. */
function readStored(files: ReturnType<typeof nodeTlsFiles>, now: Date): { identity: TlsIdentity } | { problem: string } {
  let key: string;
  let certificate: string;
  try {
    key = fs.readFileSync(files.key, "utf8");
    certificate = fs.readFileSync(files.certificate, "utf8");
  } catch (error) {
    const neither = !fs.existsSync(files.key) && !fs.existsSync(files.certificate);
    return { problem: neither ? NONE_YET : `unreadable: ${(error as Error).message}` };
  }
  try {
    const parsed = new X509Certificate(certificate);
    if (new Date(parsed.validTo) <= now) return { problem: `expired on ${parsed.validTo}` };
    const publicKey = createPublicKey(createPrivateKey(key));
    if (!parsed.publicKey.equals(publicKey)) return { problem: "the key does not belong to the certificate" };
    return { identity: { key, certificate, fingerprint: CertificateFingerprint.parse(parsed.fingerprint256), created: false } };
  } catch (error) {
    return { problem: `unreadable: ${(error as Error).message}` };
  }
}

async function generate(commonName: string, lifetimeMs: number, now: Date) {
  x509.cryptoProvider.set(webcrypto as Crypto);
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    // Positive and unique enough: a pinned certificate is never looked up by its serial.
    serialNumber: `01${randomBytes(15).toString("hex")}`,
    name: `CN=${commonName}`,
    // A little slack for a clock that is behind the control plane's (nothing checks dates under a pin, but tools do).
    notBefore: new Date(now.getTime() - 60 * 60_000),
    notAfter: new Date(now.getTime() + lifetimeMs),
    signingAlgorithm: ALGORITHM,
    keys,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const key = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }).export({ format: "pem", type: "pkcs8" }).toString();
  return { key, certificate: certificate.toString("pem") };
}

/**
 * The identity the daemon serves with: the stored one, or a new one (stored before it is used, so a
 * crash right after cannot leave a pin to a certificate nobody has). `onReplaced` hears why a stored
 * one could not be used.
 */
export async function loadOrCreateTlsIdentity(options: {
  workDir: string;
  /** Shown in the certificate's subject (an operator's `openssl s_client` tells whose it is). */
  nodeId: string;
  lifetimeMs: number;
  now?: Date;
  onReplaced?: (problem: string) => void;
}): Promise<TlsIdentity> {
  const files = nodeTlsFiles(options.workDir);
  const now = options.now ?? new Date();
  const stored = readStored(files, now);
  if ("identity" in stored) return stored.identity;
  if (stored.problem !== NONE_YET) options.onReplaced?.(stored.problem);
  const { key, certificate } = await generate(`vm-agent ${options.nodeId}`, options.lifetimeMs, now);
  fs.mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(files.dir, 0o700);
  // The key first: a certificate on disk always has its key beside it.
  writeFileAtomic(files.key, key, 0o600);
  writeFileAtomic(files.certificate, certificate, 0o644);
  return { key, certificate, fingerprint: CertificateFingerprint.parse(new X509Certificate(certificate).fingerprint256), created: true };
}
