/** The Prism language (refractor's names) a file's path suggests; undefined: shown as plain text. */
const BY_EXTENSION: Record<string, string> = {
  ts: "typescript", mts: "typescript", cts: "typescript", tsx: "tsx",
  js: "javascript", mjs: "javascript", cjs: "javascript", jsx: "jsx",
  json: "json", md: "markdown", mdx: "markdown", css: "css", scss: "scss", less: "less",
  html: "markup", htm: "markup", xml: "markup", svg: "markup", vue: "markup",
  py: "python", rb: "ruby", go: "go", rs: "rust", java: "java", kt: "kotlin", kts: "kotlin", swift: "swift",
  c: "c", h: "c", cc: "cpp", cpp: "cpp", cxx: "cpp", hpp: "cpp", cs: "csharp", php: "php", lua: "lua", pl: "perl",
  sh: "bash", bash: "bash", zsh: "bash", sql: "sql", yml: "yaml", yaml: "yaml", ini: "ini", toml: "ini",
  graphql: "graphql", gql: "graphql", r: "r", dart: "dart", m: "objectivec", diff: "diff", patch: "diff",
};
const BY_NAME: Record<string, string> = { dockerfile: "bash", makefile: "makefile", ".gitignore": "bash", ".env": "bash" };

export function languageOf(filePath: string): string | undefined {
  const name = filePath.split("/").pop()!.toLowerCase();
  if (BY_NAME[name]) return BY_NAME[name];
  const dot = name.lastIndexOf(".");
  return dot > 0 ? BY_EXTENSION[name.slice(dot + 1)] : undefined;
}
