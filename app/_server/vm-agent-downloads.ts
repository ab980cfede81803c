/**
 * The download routes' wiring: what nodes fetch to install the vm-agent is built from this
 * project's folder (the working directory of `next dev` / `next start`) into the configured cache.
 * No session: it is public code, and a node has none (proxy.ts lets these paths through). Each
 * address may fetch VM_AGENT_DOWNLOADS_PER_MINUTE of them a minute (429 with Retry-After past it):
 * what a stranger could take is this server's bandwidth and CPU (the Node runtime is tens of MiB).
 */
import { config } from "@/lib/config";
import { defaultArtifactCacheDir } from "@/lib/nodes/artifacts/cache";
import { downloadResponse, vmAgentDownloads, type DownloadSettings } from "@/lib/nodes/artifacts/downloads";
import { installerScript } from "@/lib/nodes/artifacts/installer";
import { nodeRuntimeArtifact } from "@/lib/nodes/artifacts/node-runtime";
import { vmAgentArtifact } from "@/lib/nodes/artifacts/vm-agent";
import { errorResponse, HttpError, json } from "./http/respond";
import { rateLimiter } from "./http/rate-limit";
import { forwardedPeer } from "@/lib/machines/machine-host";

export function downloadSettings(): DownloadSettings {
  const c = config();
  return { appUrl: c.APP_URL, rootDir: process.cwd(), cacheDir: c.VM_AGENT_CACHE_DIR ?? defaultArtifactCacheDir() };
}

const perAddress = rateLimiter(() => config().VM_AGENT_DOWNLOADS_PER_MINUTE);

/** The caller's address as `next start` (or the reverse proxy in front) records it: the last X-Forwarded-For hop. */
const address = (request: Request) => forwardedPeer(request.headers.get("x-forwarded-for")) ?? "unknown";

const answer = (request: Request, handler: () => Promise<Response>) => {
  const wait = perAddress.take(address(request));
  if (wait > 0) {
    const error = new HttpError(429, `at most ${config().VM_AGENT_DOWNLOADS_PER_MINUTE} downloads a minute from one address (VM_AGENT_DOWNLOADS_PER_MINUTE)`, undefined, { "retry-after": String(wait) });
    return Promise.resolve(errorResponse(error));
  }
  return handler().catch(errorResponse);
};

export const manifestResponse = (request: Request) => answer(request, async () => json(await vmAgentDownloads(downloadSettings())));

export const vmAgentArtifactResponse = (request: Request) =>
  answer(request, async () => downloadResponse(request, await vmAgentArtifact(downloadSettings()), { contentType: "application/gzip", filename: "vm-agent.tar.gz" }));

export const nodeRuntimeResponse = (request: Request) =>
  answer(request, async () => {
    const runtime = await nodeRuntimeArtifact(downloadSettings());
    if (!runtime) throw new HttpError(404, `this control plane runs on ${process.platform}/${process.arch}: it has no Node for a Linux node to download`);
    return downloadResponse(request, runtime, { contentType: "application/gzip", filename: `node-${runtime.nodeVersion}-linux-${runtime.arch}.tar.gz` });
  });

export const installerResponse = (request: Request) =>
  answer(request, async () => downloadResponse(request, installerScript(downloadSettings().rootDir), { contentType: "text/x-shellscript; charset=utf-8", filename: "install.sh" }));
