/**
 * `node --import tsx scripts/build-vm-agent.ts [--runtime]`: builds the vm-agent archive nodes
 * download (the control plane also builds it on the first request) and prints where it is and its
 * sha256; with --runtime, also packs this Node for nodes without one. Cache: VM_AGENT_CACHE_DIR,
 * else $XDG_CACHE_HOME (or ~/.cache)/agent-control-plane.
 */
import path from "node:path";
import { setting } from "../lib/contracts/settings";
import { defaultArtifactCacheDir } from "../lib/nodes/artifacts/cache";
import { nodeRuntimeArtifact } from "../lib/nodes/artifacts/node-runtime";
import { vmAgentArtifact } from "../lib/nodes/artifacts/vm-agent";

const rootDir = path.resolve(import.meta.dirname, "..");
const cacheDir = setting("VM_AGENT_CACHE_DIR") ?? defaultArtifactCacheDir();
const vmAgent = await vmAgentArtifact({ rootDir, cacheDir });
console.log(JSON.stringify({ vmAgent }));
if (process.argv.includes("--runtime")) {
  const runtime = await nodeRuntimeArtifact({ cacheDir });
  console.log(JSON.stringify({ runtime: runtime ?? `this control plane runs on ${process.platform}/${process.arch}: no Node to offer a Linux node` }));
}
