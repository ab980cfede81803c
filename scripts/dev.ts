/**
 * `npm run dev`: the whole system on the embedded defaults — PGlite under .data/, the Inngest
 * server on :8288 (its dashboard there too) and the app on :3000.
 */
import { startSystem } from "./system";

const system = await startSystem({
  mode: "dev",
  appPort: Number(process.env.PORT ?? 3000),
  inngestPort: Number(process.env.INNGEST_PORT ?? 8288),
  dataDir: process.env.DATA_DIR ?? ".data",
});

console.error(`
  App:               ${system.appUrl}
  Inngest dashboard: ${system.inngestUrl}
  Database:          ${process.env.DATABASE_URL ? "DATABASE_URL" : "embedded PGlite in .data/pglite"}

  Press Ctrl+C to stop.
`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void system.stop().then(() => process.exit(0));
  });
}
