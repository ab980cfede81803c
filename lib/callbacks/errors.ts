/**
 * Why a vm-agent callback was refused. `gone`: the node, workspace or agent session it names is not
 * there (or not running); `endpoint`: the node reported an endpoint its provider does not know;
 * `contractVersion`: the node's daemon speaks another contract version; `otherWorkspace`: the token
 * speaks for another workspace than the session's. app/_server/domain-errors.ts maps each to its status.
 */
import { RefusalError } from "../refusal";

export type CallbackRefusal = "gone" | "endpoint" | "contractVersion" | "otherWorkspace";

export class CallbackRefusedError extends RefusalError<CallbackRefusal> {
  override readonly name = "CallbackRefusedError";
}
