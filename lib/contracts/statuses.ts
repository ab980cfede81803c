/**
 * Every status column's values and the named sets of them, for the domain, the UI and the API's
 * enums. They are declared in db/statuses.ts because the schema declares its columns with them and
 * db/ imports nothing above it; this is where everything above db/ takes them from.
 */
export * from "@/db/statuses";
