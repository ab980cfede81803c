import type { Metadata } from "next";
import { config } from "@/lib/config";
import { SignInCard } from "../_components/sign-in-card";
import { safeNextPath } from "../_lib/next-path";

export const metadata: Metadata = { title: "Sign in" };

export const dynamic = "force-dynamic";

/**
 * `?next=` is where to go after signing in (a same-site path only); `?error=` is set when a sign-in
 * came back failed (team mode: our own `error=1`, then better-auth's code when it adds one; local
 * mode: why the one-time link was refused).
 */
export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<{ next?: string | string[]; error?: string | string[] }>;
}) {
  const { next, error } = await searchParams;
  const codes = error === undefined ? [] : [error].flat();
  const failure = codes.length === 0 ? undefined : (codes.findLast((code) => code !== "1") ?? "");
  return <SignInCard mode={config().AUTH_MODE} next={safeNextPath(next)} failure={failure} />;
}
