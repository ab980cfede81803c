/**
 * A domain refusal with its reason named: the domain throws it and never knows a status code;
 * app/_server/domain-errors.ts maps each reason of each kind to its answer.
 */
export abstract class RefusalError<R extends string> extends Error {
  constructor(
    readonly refusal: R,
    message: string,
  ) {
    super(message);
  }
}
