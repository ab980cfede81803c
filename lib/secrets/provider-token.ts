/**
 * Nodes on Hetzner Cloud run in their owner's project, created with the owner's HETZNER_TOKEN. A
 * task of someone who has none is refused at submit, saying where to add it, rather than failing
 * later when its node cannot be created.
 */
import type { Executor } from "@/db/client";
import type { Config } from "../config";
import { listSecrets } from "./store";

export class MissingProviderTokenError extends Error {
  override readonly name = "MissingProviderTokenError";
  constructor() {
    super("tasks run on Hetzner Cloud servers in your own project (NODE_PROVIDER=hetzner): add a Read & Write API token of the project as HETZNER_TOKEN in Settings → Secrets (/settings#secrets) or with PUT /api/secrets/HETZNER_TOKEN, then submit again");
  }
}

export async function checkProviderToken(executor: Executor, config: Pick<Config, "NODE_PROVIDER">, userId: string) {
  if (config.NODE_PROVIDER !== "hetzner") return;
  const stored = await listSecrets(executor, userId);
  if (!stored.some((s) => s.name === "HETZNER_TOKEN")) throw new MissingProviderTokenError();
}
