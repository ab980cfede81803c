/** A control-plane Runtime over a test database, for domain tests that exercise real modules without the app. */
import { signingKeyPair, type KeyPair } from "@/lib/auth/keys";
import { newKeyRingEntry, parseKeyRing } from "@/lib/envelope";
import { parseConfig } from "@/lib/config";
import type { SendEvents } from "@/lib/contracts/events";
import { engineApi } from "@/lib/engine/api";
import { localProvider } from "@/lib/nodes/providers/local";
import type { Runtime } from "@/lib/runtime";
import type { Database } from "@/db/client";

export type SentEvent = { name: string; data: unknown };

export async function testRuntime(database: Database & { dir: string }, env: Record<string, string> = {}, keys?: KeyPair): Promise<Runtime & { sent: SentEvent[] }> {
  const config = parseConfig({ DATA_DIR: database.dir, ...env });
  const sent: SentEvent[] = [];
  // The engine is not part of these tests: what would be sent to it is recorded instead.
  const send: SendEvents = async (events) => {
    for (const e of Array.isArray(events) ? events : [events]) sent.push({ name: e.name, data: e.data });
    return { ids: [] };
  };
  const secrets = parseKeyRing(newKeyRingEntry("test"));
  return {
    config,
    db: database.db,
    database,
    provider: localProvider({ dataDir: database.dir }),
    keys: keys ?? (await signingKeyPair(database.db, secrets)),
    secrets,
    send,
    engine: engineApi(config),
    sent,
  };
}
