// Finds the Inngest server binary, or builds it from the Go module proxy (ARCHITECTURE.md, "The
// Inngest server on machines without internet"). Order: $INNGEST_BIN; the inngest-cli npm
// package's binary when its download worked; the cached build of the pinned v1.1.0, built here
// with its dashboard on first use. CLI: `node scripts/inngest-bin.mjs` prints the binary's path.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const INNGEST_VERSION = "v1.1.0";
const ROOT = path.resolve(import.meta.dirname, "..");
const WRAPPER = path.join(ROOT, "scripts", "inngest-server");
const PNPM = "pnpm@8.15.8";

export function cacheDir() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "agent-control-plane", `inngest-${INNGEST_VERSION}`);
}

const executable = (file) => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

function exec(cmd, args, { cwd, env, log }) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (d) => (output = (output + d.toString()).slice(-20_000));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(output);
      else {
        log?.(output.trim().split("\n").slice(-20).join("\n"));
        reject(new Error(`${cmd} ${args.join(" ")} exited ${code}`));
      }
    });
  });
}

/** A lock folder, so two callers (parallel test workers) never build twice. Stale locks of dead processes are taken over. */
async function withLock(dir, work) {
  const lock = path.join(dir, ".build-lock");
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      const pid = Number(fs.readFileSync(path.join(lock, "pid"), "utf8").trim() || 0);
      let alive = false;
      try {
        alive = pid > 0 && (process.kill(pid, 0), true);
      } catch {
        alive = false;
      }
      if (!alive) fs.rmSync(lock, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await work();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds the dashboard from the module's own UI source into a writable copy of the module. */
async function buildDashboard(moduleDir, workDir, log) {
  const src = path.join(workDir, "inngest-src");
  fs.cpSync(moduleDir, src, { recursive: true });
  await exec("chmod", ["-R", "u+w", src], { log });
  const ui = path.join(src, "ui");
  const env = { NEXT_TELEMETRY_DISABLED: "1", CI: "1" };
  log("  dashboard: installing its packages from the npm registry…");
  await exec("npx", ["-y", PNPM, "install", "--frozen-lockfile", "--ignore-scripts"], { cwd: ui, env, log });
  log("  dashboard: building…");
  const app = path.join(ui, "apps", "dev-server-ui");
  await exec("npx", ["-y", PNPM, "build"], { cwd: app, env, log });
  const staticDir = path.join(src, "pkg", "devserver", "static");
  fs.mkdirSync(staticDir, { recursive: true });
  fs.cpSync(path.join(app, "dist"), staticDir, { recursive: true });
  fs.copyFileSync(path.join(app, ".next", "routes-manifest.json"), path.join(staticDir, "routes-manifest.json"));
  return src;
}

async function build(target, log) {
  try {
    await exec("go", ["version"], {});
  } catch {
    throw new Error("Go is not on PATH: install Go to build the Inngest server, or set INNGEST_BIN to an inngest binary");
  }
  const started = Date.now();
  log(`Building the Inngest server ${INNGEST_VERSION} from the Go module proxy (first start only, about 4 minutes)…`);
  const workDir = fs.mkdtempSync(path.join(path.dirname(target), "build-"));
  try {
    const wrapper = path.join(workDir, "wrapper");
    fs.mkdirSync(wrapper);
    for (const f of ["go.mod", "go.sum", "tools.go"]) fs.copyFileSync(path.join(WRAPPER, f), path.join(wrapper, f));
    const goEnv = { CGO_ENABLED: "0" };
    log("  server: downloading modules…");
    await exec("go", ["mod", "download", "github.com/inngest/inngest"], { cwd: wrapper, env: goEnv, log });
    const moduleDir = (await exec("go", ["list", "-m", "-f", "{{.Dir}}", "github.com/inngest/inngest"], { cwd: wrapper, env: goEnv, log })).trim();
    let replaced = false;
    if (process.env.INNGEST_SKIP_DASHBOARD !== "1") {
      try {
        const src = await buildDashboard(moduleDir, workDir, log);
        await exec("go", ["mod", "edit", `-replace=github.com/inngest/inngest=${src}`], { cwd: wrapper, log });
        replaced = true;
      } catch (error) {
        log(`  warning: the dashboard could not be built (${error.message}); the server runs without it`);
      }
    }
    log("  server: compiling…");
    const tmp = path.join(workDir, "inngest");
    await exec("go", ["build", ...(replaced ? ["-mod=mod"] : []), "-o", tmp, "github.com/inngest/inngest/cmd"], { cwd: wrapper, env: goEnv, log });
    fs.renameSync(tmp, target);
    log(`Built the Inngest server in ${Math.round((Date.now() - started) / 1000)} s: ${target}`);
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** @returns {Promise<{ path: string, legacy: boolean }>} legacy: the pinned v1.1.0 server (see inngest/legacy-server.ts) */
export async function ensureInngestBinary({ log = (line) => console.error(line) } = {}) {
  if (process.env.INNGEST_BIN) {
    if (!executable(process.env.INNGEST_BIN)) throw new Error(`INNGEST_BIN=${process.env.INNGEST_BIN} is not an executable file`);
    return { path: process.env.INNGEST_BIN, legacy: process.env.INNGEST_LEGACY_SERVER === "1" };
  }
  const fromNpm = path.join(ROOT, "node_modules", "inngest-cli", "bin", "inngest");
  if (executable(fromNpm)) return { path: fromNpm, legacy: false };
  const dir = cacheDir();
  const target = path.join(dir, "inngest");
  if (executable(target)) return { path: target, legacy: true };
  fs.mkdirSync(dir, { recursive: true });
  await withLock(dir, async () => {
    if (!executable(target)) await build(target, log);
  });
  return { path: target, legacy: true };
}

/**
 * Arguments for the local mode: no discovery or polling, a 20 ms tick, loopback only. The app
 * registers itself (PUT /api/inngest) once it is up: v1.1.0 rewrites a `-u http://127.0.0.1:…`
 * URL to `localhost`, which may resolve to ::1 where the app does not listen, and then lists a
 * second, unreachable app in its dashboard.
 */
export function inngestDevArgs({ port }) {
  return ["dev", "--no-discovery", "--no-poll", "--retry-interval", "1", "--tick", "20", "--port", String(port), "--host", "127.0.0.1"];
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  ensureInngestBinary()
    .then(({ path: binary }) => console.log(binary))
    .catch((error) => {
      console.error(error.message);
      process.exit(1);
    });
}
