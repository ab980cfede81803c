/** The vm-agent archive (vm-agent.tar.gz) with its sha256 (GET, no session). */
import { vmAgentArtifactResponse } from "@/app/_server/vm-agent-downloads";

export const dynamic = "force-dynamic";

export const GET = (request: Request) => vmAgentArtifactResponse(request);
