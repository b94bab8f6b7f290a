// ESLint (`npm run lint`): ESLint's and typescript-eslint's recommended rules, including the ones
// that use type information (floating or misused promises, unsafe `any`, unbound methods).
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

export default defineConfig(
  {
    // Built output, dependencies, and what `npm run gen:api` writes from openapi.json.
    ignores: ["dist/", "node_modules/", "e2e/artifacts/", "src/api-schema.ts"],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // Plain JavaScript (this file, scripts/) runs in Node and is outside the TypeScript project.
    files: ["**/*.js", "**/*.mjs"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
);
