/**
 * Wires the control plane's dependencies once per process: configuration, database, node provider
 * and signing key. Domain modules take the pieces they need as arguments; only entry points
 * (route handlers, Inngest functions) call this.
 */
import { config, type Config } from "./config";
import { database } from "./db";
import type { Db } from "@/db/client";
import { signingKeyPair, type KeyPair } from "./auth/keys";
import type { NodeProvider } from "./nodes/provider";
import { localProvider } from "./nodes/providers/local";
import { ensureLocalUser } from "./users";

export type Runtime = {
  config: Config;
  db: Db;
  provider: NodeProvider;
  keys: KeyPair;
  userId: string;
};

const globalForRuntime = globalThis as typeof globalThis & { __runtime?: Promise<Runtime> };

async function build(): Promise<Runtime> {
  const c = config();
  const { db } = await database();
  const [keys, userId] = await Promise.all([signingKeyPair(db), ensureLocalUser(db)]);
  return { config: c, db, provider: localProvider({ dataDir: c.DATA_DIR }), keys, userId };
}

export function runtime(): Promise<Runtime> {
  if (!globalForRuntime.__runtime) {
    globalForRuntime.__runtime = build();
    globalForRuntime.__runtime.catch(() => {
      globalForRuntime.__runtime = undefined;
    });
  }
  return globalForRuntime.__runtime;
}
