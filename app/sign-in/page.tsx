import type { Metadata } from "next";
import { SignInCard } from "../_components/sign-in-card";
import { safeNextPath } from "../_lib/next-path";

export const metadata: Metadata = { title: "Sign in" };

/**
 * `?next=` is where to go after signing in (a same-site path only); `?error=` is set when a sign-in
 * came back failed (our own `error=1`, then better-auth's code when it adds one).
 */
export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<{ next?: string | string[]; error?: string | string[] }>;
}) {
  const { next, error } = await searchParams;
  const codes = error === undefined ? [] : [error].flat();
  const failure = codes.length === 0 ? undefined : (codes.findLast((code) => code !== "1") ?? "");
  return <SignInCard next={safeNextPath(next)} failure={failure} />;
}
