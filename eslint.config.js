// ESLint flat config for the browser JavaScript (app/frontend/*.js, harness/page.js): `npm ci && npx eslint .`
// The vendored runtime (app/static/vendor/) is third-party minified code and is not linted.
import js from "@eslint/js";

// The browser globals these files use (listed instead of depending on the `globals` package).
const browser = {
  window: "readonly", document: "readonly", globalThis: "readonly", performance: "readonly",
  fetch: "readonly", caches: "readonly", URL: "readonly", Response: "readonly",
  DecompressionStream: "readonly", console: "readonly",
  setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", requestAnimationFrame: "readonly",
  cancelAnimationFrame: "readonly", HTMLCanvasElement: "readonly", ImageData: "readonly",
  MutationObserver: "readonly", ResizeObserver: "readonly", atob: "readonly",
};
const rules = {
  "no-unused-vars": ["error", { args: "after-used", argsIgnorePattern: "^_" }],
  eqeqeq: ["error", "always"],
  "prefer-const": "error",
  "no-var": "error",
};

export default [
  { ignores: ["app/static/**", "node_modules/**", "test-output/**", ".venv/**"] },
  js.configs.recommended,
  {
    files: ["app/frontend/**/*.js"],
    languageOptions: { ecmaVersion: 2024, sourceType: "module", globals: browser },
    rules,
  },
  {
    // Installed in the page by Playwright (add_init_script): a classic script, not a module.
    files: ["harness/*.js", "tests/e2e/*.js"],
    languageOptions: { ecmaVersion: 2024, sourceType: "script", globals: browser },
    rules,
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { ecmaVersion: 2024, sourceType: "module" },
  },
];
