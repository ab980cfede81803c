/**
 * The daemon's TLS identity: made once, kept (key owner-only) and served again after a restart, so
 * the control plane's pin holds; the fingerprint its ready callback reports is the certificate it
 * serves; and its callbacks reach a control plane over HTTPS whose authority NODE_EXTRA_CA_CERTS names.
 */
import { X509Certificate } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { nodeTlsFiles } from "../lib/contracts/tls";
import { daemonProcess, loopbackCertificate, startReceiver, startTestAgent } from "./test-support";
import { loadOrCreateTlsIdentity } from "./tls";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const temporaryDir = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
};

/** The fingerprint of the certificate whatever listens at `endpoint` presents (no trust decided here). */
function presentedFingerprint(endpoint: string): Promise<string> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.once("error", reject);
  });
}

const DAY = 86_400_000;

describe("the daemon's certificate", () => {
  it("is made at first start and kept: the same key and certificate every later time, the key file 0600 in a 0700 folder", async () => {
    const workDir = temporaryDir("vm-agent-tls-");
    const first = await loadOrCreateTlsIdentity({ workDir, nodeId: "n_1", lifetimeMs: DAY });
    expect(first.created).toBe(true);
    expect(first.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const files = nodeTlsFiles(workDir);
    expect(fs.statSync(files.key).mode & 0o777).toBe(0o600);
    expect(fs.statSync(files.dir).mode & 0o777).toBe(0o700);
    expect(new X509Certificate(fs.readFileSync(files.certificate)).subject).toContain("vm-agent n_1");

    const again = await loadOrCreateTlsIdentity({ workDir, nodeId: "n_1", lifetimeMs: DAY });
    expect(again).toEqual({ ...first, created: false });
  });

  it("is made anew when it expired, its key is gone or unreadable, or the key is another's; and says why", async () => {
    const workDir = temporaryDir("vm-agent-tls-");
    const files = nodeTlsFiles(workDir);
    const replaced: string[] = [];
    const load = (now?: Date) => loadOrCreateTlsIdentity({ workDir, nodeId: "n_1", lifetimeMs: DAY, now, onReplaced: (problem) => replaced.push(problem) });
    const original = await load();

    const afterExpiry = await load(new Date(Date.now() + 2 * DAY));
    expect(afterExpiry.created).toBe(true);
    expect(afterExpiry.fingerprint).not.toBe(original.fingerprint);
    expect(replaced.pop()).toMatch(/^expired on /);

    fs.rmSync(files.key);
    expect((await load()).created).toBe(true);
    expect(replaced.pop()).toMatch(/^unreadable: .*ENOENT/);

    fs.writeFileSync(files.key, "not a key");
    expect((await load()).created).toBe(true);
    expect(replaced.pop()).toMatch(/^unreadable: /);

    const stranger = await loadOrCreateTlsIdentity({ workDir: temporaryDir("vm-agent-tls-other-"), nodeId: "n_2", lifetimeMs: DAY });
    fs.writeFileSync(files.key, stranger.key);
    const renewed = await load();
    expect(renewed.created).toBe(true);
    expect(replaced.pop()).toBe("the key does not belong to the certificate");
    expect(fs.statSync(files.key).mode & 0o777).toBe(0o600);
    expect((await load()).created).toBe(false);
  });

  it("is what the in-process daemon serves, over HTTPS only", async () => {
    const receiver = await startReceiver();
    const agent = await startTestAgent(receiver.url);
    cleanups.push(receiver.close, agent.close);
    expect(agent.base).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await presentedFingerprint(agent.base)).toBe(agent.certificateFingerprint);
    expect((await agent.request("GET", "/health")).status).toBe(200);
    // Plain http on the same port gets no answer from the API.
    await expect(fetch(agent.base.replace("https:", "http:") + "/health")).rejects.toThrow();
  });
});

describe("the ready callback", () => {
  it("reports the served certificate's fingerprint, and the same one after a kill -9 and restart", async () => {
    const receiver = await startReceiver();
    const daemon = await daemonProcess(receiver);
    cleanups.push(receiver.close, daemon.cleanup);
    const first = await daemon.start();
    expect(first.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(first.certificateFingerprint).toBe(await presentedFingerprint(first.endpoint));
    expect(first.certificateFingerprint).toBe(new X509Certificate(fs.readFileSync(nodeTlsFiles(daemon.workDir).certificate)).fingerprint256);

    await daemon.killHard(first.child);
    const second = await daemon.start();
    expect(second.certificateFingerprint).toBe(first.certificateFingerprint);
    expect(await presentedFingerprint(second.endpoint)).toBe(first.certificateFingerprint);
    expect(await daemon.call(second.endpoint, "GET", "/health")).toBe(200);
  }, 60_000);

  it("goes to a control plane over HTTPS whose certificate authority NODE_EXTRA_CA_CERTS names", async () => {
    const authority = loopbackCertificate(temporaryDir("vm-agent-tls-ca-"));
    const receiver = await startReceiver(undefined, { key: authority.key, cert: authority.cert });
    const daemon = await daemonProcess(receiver, { NODE_EXTRA_CA_CERTS: authority.certFile });
    cleanups.push(receiver.close, daemon.cleanup);
    expect(receiver.url).toMatch(/^https:/);
    const { endpoint, certificateFingerprint } = await daemon.start();
    expect(certificateFingerprint).toBe(await presentedFingerprint(endpoint));
  }, 60_000);

  it("is never sent to a control plane on another machine over plain http: the daemon refuses to start", async () => {
    const receiver = await startReceiver();
    const daemon = await daemonProcess({ ...receiver, url: "http://control-plane.example.com" });
    cleanups.push(receiver.close, daemon.cleanup);
    const { code, stdout } = await daemon.run();
    expect(code).toBe(1);
    expect(stdout).toContain("CONTROL_PLANE_URL: must be https:// for a control plane that is not on this machine");
    expect(receiver.received).toEqual([]);
  }, 60_000);
});
