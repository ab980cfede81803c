/**
 * What a node downloads to install itself, and how each download is answered: its bytes with their
 * sha256 (`ETag`, `Repr-Digest` and `X-Checksum-Sha256`), revalidated by `If-None-Match`.
 */
import fs from "node:fs";
import { vmAgentDownloadPaths, type VmAgentDownloads } from "../../contracts/vm-agent-downloads";
import { installerScript } from "./installer";
import { nodeRuntimeArtifact } from "./node-runtime";
import { vmAgentArtifact } from "./vm-agent";

export type DownloadSettings = {
  /** Where nodes reach the control plane (APP_URL). */
  appUrl: string;
  /** The project's folder, with `vm-agent/` and `node_modules/`. */
  rootDir: string;
  cacheDir: string;
};

const at = (appUrl: string, pathname: string) => `${appUrl.replace(/\/+$/, "")}${pathname}`;

/** The manifest: each download's address and checksum (building what is not built yet). */
export async function vmAgentDownloads(settings: DownloadSettings): Promise<VmAgentDownloads> {
  const [vmAgent, runtime] = await Promise.all([vmAgentArtifact(settings), nodeRuntimeArtifact(settings)]);
  const installer = installerScript(settings.rootDir);
  return {
    vmAgent: { url: at(settings.appUrl, vmAgentDownloadPaths.vmAgent), sha256: vmAgent.sha256, bytes: vmAgent.bytes },
    ...(runtime
      ? { runtime: { url: at(settings.appUrl, vmAgentDownloadPaths.runtime), sha256: runtime.sha256, bytes: runtime.bytes, nodeVersion: runtime.nodeVersion, arch: runtime.arch } }
      : {}),
    installer: { url: at(settings.appUrl, vmAgentDownloadPaths.installer), sha256: installer.sha256, bytes: installer.bytes },
  };
}

export type DownloadBody = { sha256: string; bytes: number } & ({ content: Buffer } | { file: string });

/** True when the request's If-None-Match names `etag` (or `*`); weak and strong forms match alike. */
function notModified(request: Request, etag: string): boolean {
  const header = request.headers.get("if-none-match");
  if (!header) return false;
  return header.split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || trimmed.replace(/^W\//, "") === etag;
  });
}

function fileStream(file: string): ReadableStream<Uint8Array> {
  const chunks = fs.createReadStream(file)[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = (await chunks.next()) as IteratorResult<Buffer>;
      if (done) controller.close();
      else controller.enqueue(new Uint8Array(value));
    },
    async cancel() {
      await chunks.return?.();
    },
  });
}

/** Answers a download: 200 with its bytes, or 304 when the client has them already. */
export function downloadResponse(request: Request, body: DownloadBody, { contentType, filename }: { contentType: string; filename: string }): Response {
  const etag = `"${body.sha256}"`;
  const headers: Record<string, string> = {
    etag,
    "x-checksum-sha256": body.sha256,
    "repr-digest": `sha-256=:${Buffer.from(body.sha256, "hex").toString("base64")}:`,
    // A new build has a new tag: ask each time, download only what changed.
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
  };
  if (notModified(request, etag)) return new Response(null, { status: 304, headers });
  const stream = "content" in body ? new Uint8Array(body.content) : fileStream(body.file);
  return new Response(stream, {
    headers: {
      ...headers,
      "content-type": contentType,
      "content-length": String(body.bytes),
      // Fixed names of ours only: no quoting beyond this.
      "content-disposition": `attachment; filename="${filename}"`,
    },
  });
}
