import type { Metadata } from "next";
import { UsageView } from "../_components/usage-view";

export const metadata: Metadata = { title: "Usage" };

export default async function UsagePage({ searchParams }: { searchParams: Promise<{ scope?: string | string[] }> }) {
  const { scope } = await searchParams;
  return <UsageView team={scope === "team"} />;
}
