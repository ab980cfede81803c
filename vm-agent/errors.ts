/** A refusal the HTTP layer answers as `{ error, field? }` (the contract's VmAgentError) with its status. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
