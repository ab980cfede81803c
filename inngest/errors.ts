import { NonRetriableError } from "inngest";
import { NodeProviderError } from "@/lib/nodes/provider";
import { VmAgentRequestError } from "@/lib/nodes/vm-agent-client";

/** Runs a stage; failures that a retry cannot fix become NonRetriableError so the run fails at once. */
export async function permanentFailuresFail<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof VmAgentRequestError && error.permanent) throw new NonRetriableError(error.message, { cause: error });
    // A provider's refusal (a wrong token, a quota): its message is what the task fails with.
    if (error instanceof NodeProviderError && !error.retriable) throw new NonRetriableError(error.message, { cause: error });
    throw error;
  }
}
