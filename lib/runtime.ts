/**
 * Wires the control plane's dependencies once per process: configuration, database, node provider,
 * signing key, the engine's API and the `send` the entry point hands in (lib never imports the
 * Inngest client). Domain modules take the pieces they need as arguments; only entry points
 * (route handlers, Inngest functions, the supervisor) build this.
 */
import { config, type Config } from "./config";
import { prepareDataDir } from "./data-dir";
import { database } from "./db";
import type { Database, Db } from "@/db/client";
import { signingKeyPair, type KeyPair } from "./auth/keys";
import type { SendEvents } from "./contracts/events";
import { engineApi, type EngineApi } from "./engine/api";
import type { NodeProvider } from "./nodes/provider";
import { defaultArtifactCacheDir } from "./nodes/artifacts/cache";
import { cloudInitRenderer } from "./nodes/node-boot";
import { localProvider } from "./nodes/providers/local";
import { hetznerProvider } from "./nodes/providers/hetzner/provider";
import { machineProvider } from "./machines/provider";
import { routedProvider } from "./nodes/providers/routed";
import { ensureLocalUser } from "./users";
import { localTokenFor } from "./auth/local";
import type { KeyRing } from "./envelope";
import { loadKeyRing } from "./secrets/key-ring";

export type Runtime = {
  config: Config;
  db: Db;
  database: Database;
  provider: NodeProvider;
  keys: KeyPair;
  /** Encrypts and opens people's stored secrets. */
  secrets: KeyRing;
  send: SendEvents;
  engine: EngineApi;
};

const globalForRuntime = globalThis as typeof globalThis & { __runtime?: Promise<Runtime> };

async function build(send: SendEvents): Promise<Runtime> {
  const c = config();
  // Local nodes' agents run on this machine: the data folder is made theirs to pass through, not to read.
  prepareDataDir(c.DATA_DIR);
  const opened = await database();
  const secrets = loadKeyRing(c);
  // The signing key's private half is sealed with the secrets' key ring (a plain one is sealed now).
  // The local user exists in local mode only: in team mode nobody may act as it.
  const [keys] = await Promise.all([signingKeyPair(opened.db, secrets), c.AUTH_MODE === "local" ? ensureLocalUser(opened.db) : undefined]);
  // Local mode's credential for scripts and sign-in links: made now, so it is there before anyone asks.
  if (c.AUTH_MODE === "local") localTokenFor(c.DATA_DIR);
  // All are always there: a node is acted on by the provider that made it, whichever creates new ones now.
  const providers = [
    localProvider({ dataDir: c.DATA_DIR, purgeUsersTimeoutMs: c.NODE_USERS_PURGE_TIMEOUT, runtimeDir: c.LOCAL_NODE_RUNTIME_DIR, workRoot: c.LOCAL_NODE_WORK_ROOT, cacheDir: c.VM_AGENT_CACHE_DIR }),
    hetznerProvider({
      db: opened.db,
      secrets,
      config: c,
      // The app serves the downloads from its own folder (the working directory of `next start`).
      userData: cloudInitRenderer({ appUrl: c.APP_URL, rootDir: process.cwd(), cacheDir: c.VM_AGENT_CACHE_DIR ?? defaultArtifactCacheDir() }),
    }),
    // Machines people registered: never the provider that creates new nodes.
    machineProvider({ db: opened.db }),
  ];
  return {
    config: c,
    db: opened.db,
    database: opened,
    provider: routedProvider(providers, c.NODE_PROVIDER),
    keys,
    secrets,
    send,
    engine: engineApi(c),
  };
}

/** The process's runtime; the first caller's `send` is kept (every entry point hands the same client's). */
export function createRuntime(send: SendEvents): Promise<Runtime> {
  if (!globalForRuntime.__runtime) {
    globalForRuntime.__runtime = build(send);
    globalForRuntime.__runtime.catch(() => {
      globalForRuntime.__runtime = undefined;
    });
  }
  return globalForRuntime.__runtime;
}
