/** The runtime every entry point uses: the domain's dependencies with this app's Inngest client as its `send`. */
import { createRuntime, type Runtime } from "@/lib/runtime";
import type { SendEvents } from "@/lib/contracts/events";
import { inngest } from "./client";

const send: SendEvents = (events) => inngest.send(events);

export const runtime = (): Promise<Runtime> => createRuntime(send);
