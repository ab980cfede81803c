/**
 * Operator commands, run beside the system:
 * - `npm run admin -- create-user --email <email> --name <name> [--admin] [--token-name <name>]`:
 *   the headless way into a team control plane (no browser needed), and how its first admin is
 *   made. Creates the person (an admin with --admin, and the first one the command creates while
 *   there is no admin), invites their email (so they may also sign in with GitHub under it), and
 *   prints a personal API token for them, once.
 * - `npm run admin -- invite --email <email>`: lets that email's owner sign in with GitHub.
 * - `npm run admin -- rewrap-secrets`: after a new key was put in front of SECRETS_KEYS (the old
 *   one kept behind it), re-wraps every stored secret and the signing key with it; then the old key can go.
 * - `npm run admin -- sign-in-url [--next <path>]`: local mode, a new one-time link that signs a
 *   browser in (the one `npm start` printed was used or expired). Made from DATA_DIR/local-token,
 *   so only who can read that file can make one; needs no database, so it works while the system runs.
 *
 * With the embedded database (no DATABASE_URL) only one process may open it, so the commands that
 * use it refuse to run while `npm run dev` holds the data directory.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { config } from "../lib/config";
import { prepareDataDir } from "../lib/data-dir";
import { database } from "../lib/db";
import { createApiToken } from "../lib/auth/api-tokens";
import { rewrapSigningKeys } from "../lib/auth/keys";
import { invite } from "../lib/auth/invitations";
import { readLocalToken, signInUrl } from "../lib/auth/local";
import { findOrCreateUser } from "../lib/users";
import { loadKeyRing } from "../lib/secrets/key-ring";
import { rewrapSecrets } from "../lib/secrets/store";
import { readRunState, stillOurs } from "./run-state";

const usage =
  "usage: npm run admin -- create-user --email <email> --name <name> [--admin] [--token-name <name>] | invite --email <email> | rewrap-secrets | sign-in-url [--next <path>]";
const isEmail = (value: string | undefined): value is string => !!value && /^[^\s@,]+@[^\s@,]+$/.test(value);

/** Local mode's one-time sign-in link, for the app the runner serves from this data folder (else APP_URL). */
function printSignInUrl(settings: ReturnType<typeof config>, next: string | undefined) {
  if (settings.AUTH_MODE !== "local") throw new Error("sign-in-url is for local mode; in team mode people sign in with GitHub");
  const dataDir = path.resolve(settings.DATA_DIR);
  const token = readLocalToken(dataDir);
  if (!token) throw new Error(`there is no local token in ${dataDir} yet: start the control plane (npm start) first, with the same DATA_DIR`);
  const state = readRunState(dataDir);
  const running = state && stillOurs(state.runner);
  if (!running) console.error(`The control plane does not run from ${dataDir} now; the link works once it does.`);
  console.log(signInUrl(running ? state.appUrl : settings.APP_URL, token, settings.LOCAL_SIGN_IN_TTL, next));
}

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { email: { type: "string" }, name: { type: "string" }, "token-name": { type: "string" }, admin: { type: "boolean" }, next: { type: "string" } },
  });
  const command = positionals[0];
  const settings = config();
  if (command === "sign-in-url") return printSignInUrl(settings, values.next);
  if (command !== "rewrap-secrets" && ((command !== "create-user" && command !== "invite") || !isEmail(values.email))) throw new Error(usage);
  // The embedded database and the key file of local mode are in the data folder: only in one that is the control plane's.
  if (!settings.DATABASE_URL || !settings.SECRETS_KEYS) prepareDataDir(settings.DATA_DIR);
  const state = settings.DATABASE_URL ? undefined : readRunState(settings.DATA_DIR);
  if (state && stillOurs(state.runner)) {
    throw new Error(`the embedded database in ${path.resolve(settings.DATA_DIR)} is in use by the running system (pid ${state.runner.pid}); stop it first, or use DATABASE_URL`);
  }
  const { db, close } = await database();
  try {
    if (command === "rewrap-secrets") {
      const ring = loadKeyRing(settings);
      console.log(`Re-wrapped ${await rewrapSecrets(db, ring)} secrets with key ${ring.currentId}.`);
      console.log(`Re-wrapped ${await rewrapSigningKeys(db, ring)} signing keys with key ${ring.currentId}.`);
      return;
    }
    if (command === "invite") {
      const invitation = await invite(db, values.email!, null);
      console.log(`Invited ${invitation.email}: they may sign in with GitHub under that (verified) address.`);
      return;
    }
    const user = await findOrCreateUser(db, { email: values.email!, name: values.name ?? values.email!, admin: values.admin === true });
    await invite(db, user.email, null);
    const token = await createApiToken(db, user.id, values["token-name"] ?? "created by npm run admin");
    console.error(`${user.role === "admin" ? "Admin" : "Member"} ${user.name} <${user.email}> (${user.id}). Their API token, shown only now:`);
    console.log(token.token);
  } finally {
    await close();
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
