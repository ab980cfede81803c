/**
 * The one rule about the vm-agent contract's version: a node whose daemon speaks another version than
 * this control plane (lib/contracts/vm-agent.ts CONTRACT_VERSION) gets no work. Its ready report is
 * refused with why (lib/nodes/lifecycle.ts markNodeReady), which names both versions.
 */
import { CONTRACT_VERSION } from "../contracts/vm-agent";

/** Why a node whose daemon reported `reported` may get no work; undefined when it speaks this control plane's version. */
export function contractVersionRefusal(nodeId: string, reported: number): string | undefined {
  if (reported === CONTRACT_VERSION) return undefined;
  return `node ${nodeId} speaks vm-agent contract version ${reported}, this control plane version ${CONTRACT_VERSION}; it gets no work until its vm-agent is one of this control plane's`;
}
