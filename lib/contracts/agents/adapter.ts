/**
 * What the product knows of one agent CLI, in one place for both sides: the daemon reads a run's
 * output for its conversation id and its error, the UI reads each line into the events it folds.
 * What only one side needs stays there, driven by this data: the command line and environment in
 * vm-agent/agents/, the rows in app/_lib/agent-output/. Nothing here may import beyond zod and
 * lib/contracts (the vm-agent shares only lib/contracts) or touch Node (the browser reads it too).
 */
import { z } from "zod";
import type { LineEvent } from "./conversation";
import type { TurnUsage } from "../usage";

export type { TurnUsage } from "../usage";

/** How one event says the run ended. */
export type RunEnd = { failed: false } | { failed: true; error: string };

/** What an agent's events mean, each read on its own. */
export type EventReader<Event> = {
  /** The events the UI folds; undefined for an event this reader does not know (shown as the line it is). */
  read(event: Event): LineEvent[] | undefined;
  /** The CLI's conversation id, when this event carries it (a follow-up resumes it). */
  conversationId(event: Event): string | undefined;
  /** Whether this event ends the run, and how; undefined when it says nothing of that. */
  runEnd(event: Event): RunEnd | undefined;
  /** What the run used, when this event reports it. */
  usage(event: Event): TurnUsage | undefined;
  /** The agent's closing words for the run, when this event carries them (its final answer). */
  summary(event: Event): string | undefined;
  /** One model response's usage as it streams, when this event reports it (for spend mid-run); CLIs that report only a total leave it out. */
  messageUsage?(event: Event): MessageUsage | undefined;
};

/** One model response's tokens mid-run: `id` tells a response seen in several events apart, `model` prices it. */
export type MessageUsage = { id: string; model: string | undefined; usage: TurnUsage };

/** How an agent's output reads: one line at a time for the UI, the whole run's for the daemon. */
export type OutputFormat = {
  /** The schema of one line's event (a JSON object); none for plain text. */
  event: z.ZodType | undefined;
  /** The events of one line already parsed as JSON; undefined when it is no event of this CLI (or one it does not know). */
  read(value: unknown): LineEvent[] | undefined;
  /** The conversation id, from the newest line that carries one. */
  conversationId(output: string): string | undefined;
  /** The error the run ended with, as the CLI's own newest run-ending event says (never the model describing itself); undefined on success or when none says. */
  runError(output: string): string | undefined;
  /** What the run used, from the newest event that reports it; undefined when none does (or the CLI never says). */
  usage(output: string): TurnUsage | undefined;
  /** One line's model-response usage (see EventReader.messageUsage); undefined for any other line. */
  messageUsage(line: string): MessageUsage | undefined;
  /**
   * The agent's own closing summary of the run (its final message), trimmed, whole: the daemon
   * redacts it before `clipSummary` cuts it, so no cut can leave part of a secret unrecognised.
   */
  summary(output: string): string | undefined;
};

/** The CLI's binary as npm installs it: in its platform package, a path relative to the package's folder. */
export type CliPackage = { packageName: string; binary: string };

export type AgentAdapter = {
  /** The wire name (tasks, sessions, the start request). */
  name: string;
  /** What a person sees in the form. */
  label: string;
  output: OutputFormat;
  /** The model keys its sessions are handed (a person stores them in Settings → Secrets). */
  keys: readonly { name: string; label: string }[];
  /** Its model: the control plane's setting naming the default (unset: the CLI's own), and an example name for the form. None: it takes no model. */
  model?: { setting: string; example: string };
  /** Where its model API is: the node's setting that overrides it (its host joins the workspace's egress allow-list). */
  modelApi?: { baseUrlSetting: string; defaultUrl: string };
  /** Its CLI: the node's setting naming the binary, else the npm platform package that carries it (none for a platform it does not ship). */
  cli?: { binSetting: string; npmPackage(platform: string, arch: string): CliPackage | undefined };
};

/** An adapter with its names kept literal, so the registry derives the wire enums from them. */
export const defineAgent = <const A extends AgentAdapter>(adapter: A): A => adapter;

/** A line as a JSON object, when it is one. */
export function jsonLine(line: string): unknown {
  if (!line.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === "object" && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Words that say something, trimmed; undefined for none. */
const said = (text: string | undefined) => text?.trim() || undefined;

/**
 * A CLI that writes one JSON event a line, each with its `type`; lines its schema refuses are not
 * its events. The type is checked first: most lines a reader is offered are another CLI's.
 */
export function jsonEvents<Event extends { type: string }>(event: z.ZodType<Event> & { shape: { type: z.ZodType } }, reader: EventReader<Event>): OutputFormat {
  const type = event.shape.type;
  const parse = (value: unknown): Event | undefined => {
    if (!value || typeof value !== "object" || !type.safeParse((value as { type?: unknown }).type).success) return undefined;
    const parsed = event.safeParse(value);
    return parsed.success ? parsed.data : undefined;
  };
  /** The newest event of the output that `pick` finds something in. */
  const newest = <T>(output: string, pick: (event: Event) => T | undefined): T | undefined => {
    const lines = output.trim().split("\n");
    for (let at = lines.length - 1; at >= 0; at--) {
      const found = parse(jsonLine(lines[at]!));
      const picked = found === undefined ? undefined : pick(found);
      if (picked !== undefined) return picked;
    }
    return undefined;
  };
  return {
    event,
    read: (value) => {
      const found = parse(value);
      return found === undefined ? undefined : reader.read(found);
    },
    conversationId: (output) => newest(output, reader.conversationId),
    runError: (output) => {
      const end = newest(output, reader.runEnd);
      return end?.failed ? end.error : undefined;
    },
    usage: (output) => newest(output, reader.usage),
    summary: (output) => newest(output, (found) => said(reader.summary(found))),
    messageUsage: (line) => {
      if (!reader.messageUsage) return undefined;
      const found = parse(jsonLine(line));
      return found === undefined ? undefined : reader.messageUsage(found);
    },
  };
}

/**
 * A CLI that writes plain text: no line is an event, each is shown as it is, and nothing says how
 * the run ended but its exit. Its summary is its last line of text: what a script prints last is
 * what it has to say (a JSON line is another CLI's event it passed on, not its own words).
 */
export const plainLines: OutputFormat = {
  event: undefined,
  read: () => undefined,
  conversationId: () => undefined,
  runError: () => undefined,
  usage: () => undefined,
  messageUsage: () => undefined,
  summary: (output) => said(output.split("\n").findLast((line) => line.trim() !== "" && jsonLine(line.trim()) === undefined)),
};

/** How much of an agent's closing summary leaves the node (the completion callback's `summary`). */
export const SUMMARY_MAX_CHARS = 4_000;

/** A summary cut to SUMMARY_MAX_CHARS: its start kept (where an answer leads), the cut marked, no UTF-16 pair split. */
export function clipSummary(text: string, max = SUMMARY_MAX_CHARS): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/**
 * A field of an event: absent, or read as absent when its shape is not the expected one, so a CLI
 * version that changes one field still has its events shown (only the event's `type` is strict).
 */
export const field = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);
