/**
 * Labels and label selectors as Hetzner Cloud's API defines them (docs.hetzner.cloud, "Labels",
 * "Label Selector"), for the Hetzner double: which keys and values are valid, and which labels a
 * selector (`k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, joined by commas) matches.
 */
const NAME = /^[a-zA-Z0-9]([a-zA-Z0-9_.-]{0,61}[a-zA-Z0-9])?$/;
const VALUE = /^([a-zA-Z0-9]([a-zA-Z0-9_.-]{0,61}[a-zA-Z0-9])?)?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** Why a label is invalid, or undefined. */
export function labelProblem(key: string, value: unknown): string | undefined {
  if (typeof value !== "string") return `label ${key} must have a string value`;
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return `label key ${key} has an invalid prefix`;
  if (prefix === "hetzner.cloud") return `label key ${key} uses the reserved prefix hetzner.cloud/`;
  if (!NAME.test(name)) return `label key ${key} is invalid`;
  if (!VALUE.test(value)) return `label value ${JSON.stringify(value)} of ${key} is invalid`;
  return undefined;
}

type Requirement = (labels: Record<string, string>) => boolean;

/** Splits on commas outside parentheses. */
function terms(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of selector) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(current.trim());
      current = "";
    } else current += ch;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

function requirement(term: string): Requirement | undefined {
  const set = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (set) {
    const [, key, op, list] = set as unknown as [string, string, string, string];
    const values = list.split(",").map((v) => v.trim());
    return op === "in" ? (l) => key in l && values.includes(l[key]!) : (l) => !(key in l) || !values.includes(l[key]!);
  }
  const compare = /^([^\s!=]+)\s*(==|=|!=)\s*([^\s]*)$/.exec(term);
  if (compare) {
    const [, key, op, value] = compare as unknown as [string, string, string, string];
    return op === "!=" ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  const absent = /^!([^\s!=]+)$/.exec(term);
  if (absent) return (l) => !(absent[1]! in l);
  if (/^[^\s!=()]+$/.test(term)) return (l) => term in l;
  return undefined;
}

/** A predicate over labels, or undefined when the selector is malformed (the API answers 422 invalid_input). */
export function parseLabelSelector(selector: string): Requirement | undefined {
  const requirements = terms(selector).map(requirement);
  if (requirements.some((r) => r === undefined)) return undefined;
  return (labels) => requirements.every((r) => r!(labels));
}
