import js from "@eslint/js";
import tseslint from "typescript-eslint";
import nextPlugin from "@next/eslint-plugin-next";
import reactHooks from "eslint-plugin-react-hooks";
import importX from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";

export default tseslint.config(
  { ignores: ["node_modules/", ".next*/", ".data/", "test-results/", "db/migrations/", "next-env.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.{ts,tsx}"],
    plugins: { "@next/next": nextPlugin, "react-hooks": reactHooks },
    rules: {
      ...nextPlugin.configs.recommended.rules,
      "react-hooks/rules-of-hooks": "error",
      "react-hooks/exhaustive-deps": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["@/app/*", "**/app/*"], message: "Nothing outside app/ imports from app/." }] },
      ],
    },
  },
  {
    // The layers import one way: app/ → inngest/ → lib/ → db/. The domain is handed the engine's
    // `send`; it never imports the Inngest client or its functions.
    files: ["lib/**/*.ts", "db/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["@/app/*", "**/app/*"], message: "Nothing outside app/ imports from app/." },
            { group: ["@/inngest/*", "**/inngest/*", "!inngest"], message: "lib/ and db/ never import inngest/: take a `send` (lib/contracts/events.ts)." },
          ],
        },
      ],
    },
  },
  {
    files: ["db/**/*.ts"],
    ignores: ["db/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["@/lib/*", "**/lib/*", "@/inngest/*", "**/inngest/*", "@/app/*", "**/app/*"], message: "db/ is the bottom layer." }] },
      ],
    },
  },
  {
    // The daemon shares only lib/contracts/ with the control plane (ARCHITECTURE.md): the bundle a
    // node runs holds nothing else of lib/, and the control plane's domain never reaches a node.
    files: ["vm-agent/**/*.ts"],
    ignores: ["vm-agent/**/*.test.ts", "vm-agent/test-support.ts", "vm-agent/test-git-server.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@/*", "!@/lib", "@/lib/*", "!@/lib/contracts", "**/lib/*", "!**/lib/contracts"],
              message: "vm-agent/ imports only lib/contracts/ from the control plane's code: move what both sides need there.",
            },
            { group: ["**/app/*", "**/inngest/*", "**/db/*", "**/tests/*"], message: "vm-agent/ imports only lib/contracts/ from the control plane's code." },
          ],
        },
      ],
    },
  },
  {
    // No import cycles in the domain, the engine glue or the daemon.
    files: ["lib/**/*.ts", "db/**/*.ts", "inngest/**/*.ts", "vm-agent/**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "./tsconfig.json" })],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts", ".tsx"] },
      "import-x/extensions": [".ts", ".tsx", ".js", ".mjs"],
    },
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },
  {
    files: ["**/*.{js,mjs}"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly", setTimeout: "readonly", clearTimeout: "readonly", Buffer: "readonly", fetch: "readonly", AbortSignal: "readonly" } },
  },
  {
    // proxy.ts is Next's middleware: it sits at the root because Next looks for it there, but it is
    // the web layer, so it may use app/_server's request guard like the routes do.
    files: ["app/**/*.{ts,tsx}", "proxy.ts"],
    rules: { "no-restricted-imports": "off" },
  },
);
