// ESLint flat config for the app's browser JavaScript (app/frontend/*.js): `npm ci && npx eslint`.
// The vendored runtime (app/static/vendor/) is third-party minified code and is not linted.
import js from "@eslint/js";

export default [
  { ignores: ["app/static/**", "node_modules/**", "test-output/**", ".venv/**"] },
  js.configs.recommended,
  {
    files: ["app/frontend/**/*.js"],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: "module",
      // The browser globals these modules use (listed instead of depending on the `globals` package).
      globals: {
        window: "readonly", document: "readonly", globalThis: "readonly", performance: "readonly",
        fetch: "readonly", caches: "readonly", URL: "readonly", Response: "readonly",
        DecompressionStream: "readonly", console: "readonly",
        setTimeout: "readonly", clearTimeout: "readonly", requestAnimationFrame: "readonly",
        cancelAnimationFrame: "readonly", HTMLCanvasElement: "readonly", ImageData: "readonly",
      },
    },
    rules: {
      "no-unused-vars": ["error", { args: "after-used", argsIgnorePattern: "^_" }],
      eqeqeq: ["error", "always"],
      "prefer-const": "error",
      "no-var": "error",
    },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { ecmaVersion: 2024, sourceType: "module" },
  },
];
