/** The download manifest: each download's URL, sha256 and size (GET, no session). */
import { manifestResponse } from "@/app/_server/vm-agent-downloads";

export const dynamic = "force-dynamic";

export const GET = (request: Request) => manifestResponse(request);
