/**
 * Cloud machines for the Hetzner double, as local processes: a server the double creates boots
 * from its user data the way cloud-init would (its files written and its commands run under a
 * throwaway root, the installer fetching the vm-agent from the control plane and checking it),
 * then the installed unit starts as systemd would, listening on the server's own loopback address
 * (127.0.0.x, its "public IPv4", which Hetzner's metadata service would give it). A deleted server's
 * daemon is stopped, its workspaces' users removed and its root deleted.
 */
import { spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { removeNodeUsers } from "@/vm-agent/users";
import type { DoubleServer } from "../doubles/hetzner-cloud";
import { parseCloudConfig, readEnvironmentFile, readUnit, runCommandsUnder, startUnit, stopUnit, throwawayRoot, writeFilesUnder } from "./node-install";

const UNIT = "etc/systemd/system/agent-control-plane-vm-agent.service";

type Machine = { root: string; nodeId?: string; daemon?: ChildProcess; booting: Promise<void> };

export function cloudMachines(options: { caFile: string }) {
  const machines = new Map<number, Machine>();
  const failures: Error[] = [];

  async function boot(server: DoubleServer, userData: string, machine: Machine) {
    const document = parseCloudConfig(userData);
    writeFilesUnder(machine.root, document);
    const installed = await runCommandsUnder(machine.root, document, {
      PATH: process.env.PATH!,
      HOME: machine.root,
      ACP_SYSTEMCTL: "true",
      ACP_AGENT_HOST: server.ipv4,
      // Hetzner's metadata service would answer this to the machine's own request.
      ACP_AGENT_PUBLIC_HOST: server.ipv4,
      // The machine trusts the control plane's certificate authority, as a real one trusts a public CA.
      CURL_CA_BUNDLE: options.caFile,
    });
    if (installed.code !== 0) throw new Error(`server ${server.name}'s cloud-init failed: ${installed.stderr.slice(-2_000)}`);
    const unit = readUnit(path.join(machine.root, UNIT));
    machine.nodeId = readEnvironmentFile(unit.environmentFile).NODE_ID;
    machine.daemon = startUnit(unit, path.join(machine.root, "vm-agent.log"), { NODE_EXTRA_CA_CERTS: options.caFile });
  }

  return {
    failures,
    onServerCreated(server: DoubleServer, userData: string) {
      const machine: Machine = { root: throwawayRoot(), booting: Promise.resolve() };
      machine.booting = boot(server, userData, machine).catch((error: Error) => void failures.push(error));
      machines.set(server.id, machine);
    },
    onServerDeleted: (server: DoubleServer) => stop(server.id),
    /** The daemon's log of a server's machine (for a failing test's message). */
    log: (serverId: number) => {
      const machine = machines.get(serverId);
      return machine ? fs.readFileSync(path.join(machine.root, "vm-agent.log"), "utf8") : "";
    },
    async stopAll() {
      for (const id of [...machines.keys()]) await stop(id);
    },
  };

  async function stop(id: number) {
    const machine = machines.get(id);
    if (!machine) return;
    machines.delete(id);
    await machine.booting;
    if (machine.daemon) await stopUnit(machine.daemon);
    if (machine.nodeId) {
      // Its agents' tmux server outlives the daemon, as on a real machine (KillMode=process).
      spawnSync("tmux", ["-L", `acp-${machine.nodeId}`, "kill-server"]);
      await removeNodeUsers(machine.nodeId);
    }
    if (!process.env.KEEP_TEST_DATA) fs.rmSync(machine.root, { recursive: true, force: true });
  }
}
