/**
 * The download routes' wiring: what nodes fetch to install the vm-agent is built from this
 * project's folder (the working directory of `next dev` / `next start`) into the configured cache.
 * No session: it is public code, and a node has none (proxy.ts lets these paths through).
 */
import { config } from "@/lib/config";
import { defaultArtifactCacheDir } from "@/lib/nodes/artifacts/cache";
import { downloadResponse, vmAgentDownloads, type DownloadSettings } from "@/lib/nodes/artifacts/downloads";
import { installerScript } from "@/lib/nodes/artifacts/installer";
import { nodeRuntimeArtifact } from "@/lib/nodes/artifacts/node-runtime";
import { vmAgentArtifact } from "@/lib/nodes/artifacts/vm-agent";
import { errorResponse, HttpError, json } from "@/lib/http/respond";

export function downloadSettings(): DownloadSettings {
  const c = config();
  return { appUrl: c.APP_URL, rootDir: process.cwd(), cacheDir: c.VM_AGENT_CACHE_DIR ?? defaultArtifactCacheDir() };
}

const answer = (handler: () => Promise<Response>) => handler().catch(errorResponse);

export const manifestResponse = () => answer(async () => json(await vmAgentDownloads(downloadSettings())));

export const vmAgentArtifactResponse = (request: Request) =>
  answer(async () => downloadResponse(request, await vmAgentArtifact(downloadSettings()), { contentType: "application/gzip", filename: "vm-agent.tar.gz" }));

export const nodeRuntimeResponse = (request: Request) =>
  answer(async () => {
    const runtime = await nodeRuntimeArtifact(downloadSettings());
    if (!runtime) throw new HttpError(404, `this control plane runs on ${process.platform}/${process.arch}: it has no Node for a Linux node to download`);
    return downloadResponse(request, runtime, { contentType: "application/gzip", filename: `node-${runtime.nodeVersion}-linux-${runtime.arch}.tar.gz` });
  });

export const installerResponse = (request: Request) =>
  answer(async () => downloadResponse(request, installerScript(downloadSettings().rootDir), { contentType: "text/x-shellscript; charset=utf-8", filename: "install.sh" }));
