/**
 * Why a machine's registration was refused. `unknown`: no such token; `used` / `expired`: the
 * token is spent; `unreachable`: this control plane's APP_URL cannot take a remote daemon's
 * callbacks; `address`: the machine's address cannot be told. app/_server/domain-errors.ts maps each to its status.
 */
import { RefusalError } from "../refusal";

export type MachineRegistrationRefusal = "unknown" | "used" | "expired" | "unreachable" | "address";

export class MachineRegistrationError extends RefusalError<MachineRegistrationRefusal> {
  override readonly name = "MachineRegistrationError";
}
