/** The node installer that cloud-init and a hand-run install use (GET, no session). */
import { installerResponse } from "@/app/_server/vm-agent-downloads";

export const dynamic = "force-dynamic";

export const GET = (request: Request) => installerResponse(request);
