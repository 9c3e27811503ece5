"""What the browser tests (tests/e2e) and the benchmarks (bench/) share: the app server, Chromium and
the page reader (``harness.browser``). Nothing here ships with the app."""
