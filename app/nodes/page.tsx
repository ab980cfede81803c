import type { Metadata } from "next";
import { NodeList } from "../_components/node-list";

export const metadata: Metadata = { title: "Nodes" };

export default async function NodesPage({ searchParams }: { searchParams: Promise<{ all?: string | string[] }> }) {
  const { all } = await searchParams;
  return <NodeList all={all === "1"} />;
}
