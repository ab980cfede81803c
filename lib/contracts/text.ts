/**
 * Text that reaches Postgres. Its `text` and `jsonb` types refuse NUL, so a NUL byte would turn an
 * insert into a server error: what a person sends is refused with a 4xx naming the field, and
 * what a node reports (error text, output) keeps the NUL visibly as U+2400 (␀).
 */
import { z } from "zod";

const NUL = "\u0000";

/** A string a person typed: NUL is refused. */
export const userText = () => z.string().refine((value) => !value.includes(NUL), "must not contain NUL bytes");

/** A string a node reports: NUL shown as ␀, nothing dropped. */
export const reportedText = (max: number) =>
  z
    .string()
    .max(max)
    .transform((value) => value.replaceAll(NUL, "\u2400"));
