/**
 * A real PostgreSQL server for the tests (Debian's postgresql package), in a temporary cluster that
 * only listens on loopback. Postgres refuses to run as root, so it runs as the `postgres` user.
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "@/lib/net";

function pgBin(name: string): string {
  const versions = fs.existsSync("/usr/lib/postgresql") ? fs.readdirSync("/usr/lib/postgresql").sort().reverse() : [];
  for (const v of versions) {
    const candidate = `/usr/lib/postgresql/${v}/bin/${name}`;
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`PostgreSQL's ${name} was not found: install Debian's postgresql package`);
}

const asPostgres = (args: string[]) => (process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--", ...args] : args);

function run(args: string[]) {
  const [cmd, ...rest] = asPostgres(args);
  execFileSync(cmd!, rest, { stdio: "pipe" });
}

export type PostgresServer = { port: number; dataDir: string; url(database: string): string; createDatabase(): Promise<string>; stop(): Promise<void> };

/**
 * Restarts the server in `dataDir` (chaos tests: every connection drops, the data stays). Its
 * output goes to the cluster's log file: a server holding our pipe open would never let this return.
 */
export function restartPostgres(dataDir: string) {
  run([pgBin("pg_ctl"), "-D", dataDir, "-w", "-t", "60", "-l", path.join(path.dirname(dataDir), "postgres.log"), "-m", "immediate", "restart"]);
}

export async function startPostgres(): Promise<PostgresServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-pg-"));
  fs.chmodSync(dir, 0o777);
  const data = path.join(dir, "data");
  if (process.getuid?.() === 0) execFileSync("chown", ["postgres", dir]);
  run([pgBin("initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const port = await freePort();
  run([
    pgBin("pg_ctl"),
    "-D",
    data,
    "-w",
    "-l",
    path.join(dir, "postgres.log"),
    "-o",
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
    "start",
  ]);
  let counter = 0;
  return {
    port,
    dataDir: data,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async createDatabase() {
      const name = `acp_${process.pid}_${++counter}_${Date.now()}`;
      await new Promise<void>((resolve, reject) => {
        const child = spawn("psql", [
          "-h",
          "127.0.0.1",
          "-p",
          String(port),
          "-U",
          "postgres",
          "-c",
          `create database ${name}`,
        ]);
        child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`createdb exited ${code}`))));
        child.on("error", reject);
      });
      return name;
    },
    async stop() {
      try {
        run([pgBin("pg_ctl"), "-D", data, "-m", "immediate", "stop"]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
