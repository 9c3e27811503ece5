# Two commands do all set-up on a fresh machine (Python 3.11):
#   make run    create .venv from requirements.txt if missing, then serve the explorer on :8501
#   make test   install Debian's chromium and Fashion-MNIST if missing (as root; otherwise it says how),
#               create .venv with the test tools if missing, then run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test lint system-deps test-fast bench-quality bench-decode bench-browser bench-load container-check \
	clean

# Set-up takes a minute or more: say what each step does, and let pip show its own progress.
$(VENV)/.runtime: requirements.txt
	@echo "==> creating the virtual environment $(VENV) (if missing)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> upgrading pip"
	$(PY) -m pip install -q --upgrade pip
	@echo "==> installing requirements.txt (TensorFlow, Keras, Streamlit, ...: about 1 GB)"
	$(PY) -m pip install --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	@echo "==> installing requirements-dev.txt (pytest, Playwright, ruff)"
	$(PY) -m pip install --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	@echo "==> starting the explorer on http://localhost:$(PORT) (Ctrl-C stops it)"
	$(PY) -m streamlit run app/streamlit_app.py --server.port $(PORT)

# First the Debian packages the browser and real-data tests need (installed if root, else
# the command to run), so that `make test` runs the whole suite, never skipping it; then the
# linters (seconds), then the tests.
test: system-deps lint
	$(PY) -m pytest

# ruff for the Python; ESLint (pinned in package-lock.json) for the browser JavaScript.
lint: $(VENV)/.dev node_modules/.installed
	@echo "==> ruff and ESLint"
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	npx --no-install eslint .

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "make: ESLint needs Node.js 20 or newer with npm (your package manager, or nodejs.org)" >&2; exit 1; }
	@echo "==> installing ESLint from package-lock.json (npm ci)"
	npm ci --no-audit --no-fund
	touch $@

system-deps:
	@scripts/system-deps

test-fast: $(VENV)/.dev  ## unit and AppTest tests only: no training runs, no browser
	$(PY) -m pytest -m "not slow and not browser"

bench-quality: $(VENV)/.runtime
	$(PY) bench/quality.py $(ARGS)

bench-decode: $(VENV)/.runtime
	$(PY) bench/decode.py $(ARGS)

bench-browser: $(VENV)/.dev
	$(PY) bench/browser.py $(ARGS)

bench-load: $(VENV)/.dev
	$(PY) bench/load.py $(ARGS)

container-check:
	../shared/tools/container-check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-output node_modules
