/**
 * `node --import tsx vm-agent/purge-node-users.ts <nodeId>`: deletes the Unix users a node's
 * daemon made for its workspaces, killing what they still run. For whoever removes a node for
 * good (the local provider's purge); a no-op where the caller cannot delete users.
 */
import { Id } from "../lib/contracts/vm-agent";
import { removeNodeUsers } from "./users";

const nodeId = Id.safeParse(process.argv[2]);
if (!nodeId.success) {
  process.stderr.write("usage: purge-node-users.ts <nodeId>\n");
  process.exit(2);
}
await removeNodeUsers(nodeId.data);
