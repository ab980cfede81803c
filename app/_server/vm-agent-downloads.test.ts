/** The download routes nodes install from: checksums in headers and manifest, revalidation, no session. */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET as getArtifact } from "@/app/api/vm-agent/artifact/route";
import { GET as getInstaller } from "@/app/api/vm-agent/install.sh/route";
import { GET as getManifest } from "@/app/api/vm-agent/manifest/route";
import { GET as getRuntime } from "@/app/api/vm-agent/runtime/route";
import { VmAgentDownloads, vmAgentDownloadPaths } from "@/lib/contracts/vm-agent-downloads";
import { config as proxyConfig } from "@/proxy";

const APP_URL = "http://127.0.0.1:3999";
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-downloads-cache-"));
// Read when the routes first read the configuration.
process.env.VM_AGENT_CACHE_DIR = cacheDir;
process.env.APP_URL = APP_URL;
process.env.VM_AGENT_DOWNLOADS_PER_MINUTE = "8";
afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

let manifest: VmAgentDownloads;
beforeAll(async () => {
  const response = await getManifest(request(vmAgentDownloadPaths.manifest));
  expect(response.status).toBe(200);
  manifest = VmAgentDownloads.parse(await response.json());
}, 120_000);

const request = (pathname: string, headers: Record<string, string> = {}) => new Request(`${APP_URL}${pathname}`, { headers });
const sha256 = (bytes: ArrayBuffer) => createHash("sha256").update(new Uint8Array(bytes)).digest("hex");

describe("the vm-agent downloads", () => {
  it("the manifest names each download at APP_URL with its sha256", () => {
    expect(manifest.vmAgent.url).toBe(`${APP_URL}${vmAgentDownloadPaths.vmAgent}`);
    expect(manifest.installer.url).toBe(`${APP_URL}${vmAgentDownloadPaths.installer}`);
    expect(manifest.runtime).toMatchObject({ url: `${APP_URL}${vmAgentDownloadPaths.runtime}`, nodeVersion: process.version, arch: process.arch });
  });

  it("the archive comes with its sha256 as ETag, Repr-Digest and X-Checksum-Sha256, and is not sent again to a client that has it", async () => {
    const response = await getArtifact(request(vmAgentDownloadPaths.vmAgent));
    expect(response.status).toBe(200);
    const body = await response.arrayBuffer();
    expect(sha256(body)).toBe(manifest.vmAgent.sha256);
    expect(Object.fromEntries(response.headers)).toMatchObject({
      "content-type": "application/gzip",
      "content-length": String(manifest.vmAgent.bytes),
      etag: `"${manifest.vmAgent.sha256}"`,
      "x-checksum-sha256": manifest.vmAgent.sha256,
      "repr-digest": `sha-256=:${Buffer.from(manifest.vmAgent.sha256, "hex").toString("base64")}:`,
      "cache-control": "no-cache",
    });
    for (const tag of [`"${manifest.vmAgent.sha256}"`, `W/"${manifest.vmAgent.sha256}", "other"`, "*"]) {
      const again = await getArtifact(request(vmAgentDownloadPaths.vmAgent, { "if-none-match": tag }));
      expect(again.status, tag).toBe(304);
      expect(await again.text()).toBe("");
    }
    const changed = await getArtifact(request(vmAgentDownloadPaths.vmAgent, { "if-none-match": '"an-older-build"' }));
    expect(changed.status).toBe(200);
    await changed.body?.cancel();
  });

  it("the installer is the repository's script, with its sha256", async () => {
    const response = await getInstaller(request(vmAgentDownloadPaths.installer));
    expect(response.headers.get("content-type")).toBe("text/x-shellscript; charset=utf-8");
    const body = await response.arrayBuffer();
    expect(Buffer.from(body).equals(fs.readFileSync("vm-agent/install/install.sh"))).toBe(true);
    expect(response.headers.get("etag")).toBe(`"${sha256(body)}"`);
    expect(sha256(body)).toBe(manifest.installer.sha256);
  });

  it("the runtime is this Node, packed, under the sha256 the manifest gives", async () => {
    const response = await getRuntime(request(vmAgentDownloadPaths.runtime));
    expect(response.status).toBe(200);
    expect(response.headers.get("etag")).toBe(`"${manifest.runtime!.sha256}"`);
    expect(response.headers.get("content-length")).toBe(String(manifest.runtime!.bytes));
    expect(sha256(await response.arrayBuffer())).toBe(manifest.runtime!.sha256);
  });

  it("are limited per address: past VM_AGENT_DOWNLOADS_PER_MINUTE a minute, 429 with Retry-After, and another address is not held back", async () => {
    const from = (address: string) => ({ "x-forwarded-for": `10.9.8.7, ${address}` });
    for (let i = 0; i < 8; i++) expect((await getInstaller(request(vmAgentDownloadPaths.installer, from("198.51.100.7")))).status, `download ${i + 1}`).toBe(200);
    for (const get of [() => getInstaller(request(vmAgentDownloadPaths.installer, from("198.51.100.7"))), () => getArtifact(request(vmAgentDownloadPaths.vmAgent, from("198.51.100.7"))), () => getRuntime(request(vmAgentDownloadPaths.runtime, from("198.51.100.7"))), () => getManifest(request(vmAgentDownloadPaths.manifest, from("198.51.100.7")))]) {
      const refused = await get();
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(60);
      expect(((await refused.json()) as { error: string }).error).toMatch(/VM_AGENT_DOWNLOADS_PER_MINUTE/);
    }
    // The first hop is the caller's own claim; the limit follows the last (the peer the server saw).
    expect((await getInstaller(request(vmAgentDownloadPaths.installer, { "x-forwarded-for": "198.51.100.8, 198.51.100.9" }))).status).toBe(200);
    expect((await getInstaller(request(vmAgentDownloadPaths.installer, from("198.51.100.8")))).status).toBe(200);
  });

  it("are outside the request guard, like public/'s files: a node has no session and may not use a loopback name", () => {
    const guarded = proxyConfig.matcher.map((pattern) => new RegExp(`^${pattern}$`));
    const isGuarded = (pathname: string) => guarded.some((pattern) => pattern.test(pathname));
    for (const pathname of Object.values(vmAgentDownloadPaths)) expect(isGuarded(pathname), pathname).toBe(false);
    for (const pathname of ["/api/nodes/n1/ready", "/api/tasks", "/api/vm-agent", "/api/vm-agent-else/x", "/nodes", "/"]) expect(isGuarded(pathname), pathname).toBe(true);
  });
});
