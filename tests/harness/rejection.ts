import { expect } from "vitest";

/** The error `call` fails with, checked to be a `kind` (the call must fail). */
export async function rejectionOf<E extends Error>(call: Promise<unknown>, kind: abstract new (...args: never[]) => E): Promise<E> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(kind);
  return error as E;
}
