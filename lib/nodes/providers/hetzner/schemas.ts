/**
 * The parts of Hetzner Cloud's API answers we use (docs.hetzner.cloud, "Servers", "Actions",
 * "Firewalls", "Errors"), checked on the way in. Objects keep only the fields named here.
 */
import { z } from "zod";

const Id = z.number().int().positive();
const Labels = z.record(z.string(), z.string());

/** An asynchronous task the API started (create, power off, delete, apply a firewall). */
export const HetznerAction = z.object({
  id: Id,
  command: z.string(),
  status: z.enum(["running", "success", "error"]),
  progress: z.number(),
  started: z.string(),
  finished: z.string().nullable(),
  resources: z.array(z.object({ id: Id, type: z.string() })),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});
export type HetznerAction = z.infer<typeof HetznerAction>;

/**
 * A server's status: initializing, starting, running, stopping, off, deleting, migrating,
 * rebuilding or unknown. Kept as text, so a status the API adds later does not fail every call.
 */
export const HetznerServerStatus = z.string();

export const HetznerServer = z.object({
  id: Id,
  name: z.string(),
  status: HetznerServerStatus,
  created: z.string(),
  labels: Labels,
  public_net: z.object({
    ipv4: z.object({ ip: z.string() }).nullable(),
    ipv6: z.object({ ip: z.string() }).nullable(),
    firewalls: z.array(z.object({ id: Id, status: z.string() })).default([]),
  }),
});
export type HetznerServer = z.infer<typeof HetznerServer>;

export const FirewallRule = z.object({
  direction: z.enum(["in", "out"]),
  protocol: z.string(),
  port: z.string().nullable().optional(),
  source_ips: z.array(z.string()).default([]),
  destination_ips: z.array(z.string()).default([]),
  description: z.string().nullable().optional(),
});
export type FirewallRule = z.input<typeof FirewallRule>;

export const HetznerFirewall = z.object({
  id: Id,
  name: z.string(),
  labels: Labels,
  rules: z.array(FirewallRule),
  applied_to: z.array(z.object({ type: z.string(), server: z.object({ id: Id }).optional() })).default([]),
});
export type HetznerFirewall = z.infer<typeof HetznerFirewall>;

export const ServerAnswer = z.object({ server: HetznerServer });
export const CreatedServerAnswer = z.object({ server: HetznerServer, action: HetznerAction });
export const ServerListAnswer = z.object({ servers: z.array(HetznerServer) });
export const ActionAnswer = z.object({ action: HetznerAction });
export const ActionListAnswer = z.object({ actions: z.array(HetznerAction) });
export const FirewallAnswer = z.object({ firewall: HetznerFirewall });
export const FirewallListAnswer = z.object({ firewalls: z.array(HetznerFirewall) });

/** Every error answer: `{"error": {"code", "message", "details"}}`; details' shape depends on the code. */
export const HetznerErrorEnvelope = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

/** What POST /servers takes (the fields we send). */
export type CreateServerRequest = {
  name: string;
  server_type: string;
  image: string;
  location: string;
  user_data: string;
  labels: Record<string, string>;
  firewalls: { firewall: number }[];
  public_net: { enable_ipv4: boolean; enable_ipv6: boolean };
  start_after_create: boolean;
};

/** What POST /firewalls takes (the fields we send). */
export type CreateFirewallRequest = { name: string; labels: Record<string, string>; rules: FirewallRule[] };
