/** The control plane's own Node, packed for a Linux node of its CPU (GET, no session). */
import { nodeRuntimeResponse } from "@/app/_server/vm-agent-downloads";

export const dynamic = "force-dynamic";

export const GET = (request: Request) => nodeRuntimeResponse(request);
