import { serve } from "inngest/next";
import { inngest } from "@/inngest/client";
import { functions } from "@/inngest/index";
import { forLegacyServer } from "@/inngest/legacy-server";
import { config } from "@/lib/config";

export const dynamic = "force-dynamic";

const handlers = serve({ client: inngest, functions });
const legacy = config().INNGEST_LEGACY_SERVER;

export const GET = handlers.GET;
export const PUT = handlers.PUT;
export const POST = forLegacyServer(handlers.POST, legacy);
