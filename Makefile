# Two commands do all set-up on a fresh machine (Python 3.11):
#   make run    create .venv with the serving set (requirements.txt: no TensorFlow) if missing, then
#               serve the explorer on :8501
#   make test   install Debian's chromium and Fashion-MNIST if missing (as root; otherwise it says how),
#               create .venv with the training set and the test tools if missing, then run the suite
# make train-deps adds TensorFlow and Keras (requirements-train.txt) for python -m vae_core train.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run cluster train-deps test lint system-deps test-fast bench-quality bench-decode bench-browser bench-load container-check \
	clean

# Set-up takes a minute or more: say what each step does, and let pip show its own progress.
$(VENV)/.runtime: requirements.txt
	@echo "==> creating the virtual environment $(VENV) (if missing)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> upgrading pip"
	$(PY) -m pip install -q --upgrade pip
	@echo "==> installing requirements.txt (Streamlit, ONNX Runtime, Plotly, ...: about 800 MB, no TensorFlow)"
	$(PY) -m pip install --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.train: $(VENV)/.runtime requirements-train.txt
	@echo "==> installing requirements-train.txt (TensorFlow, Keras, tf2onnx: about 1.5 GB more)"
	$(PY) -m pip install --disable-pip-version-check -r requirements-train.txt
	touch $@

train-deps: $(VENV)/.train

$(VENV)/.dev: $(VENV)/.train requirements-dev.txt
	@echo "==> installing requirements-dev.txt (pytest, Playwright, ruff)"
	$(PY) -m pip install --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	@echo "==> starting the explorer on http://localhost:$(PORT) (Ctrl-C stops it)"
	$(PY) -m streamlit run app/streamlit_app.py --server.port $(PORT)

# A classroom on this machine: N replicas behind nginx (deploy/nginx/explorer.conf) on PORT, without
# containers; Ctrl-C stops them all. make cluster N=3 PORT=8080
N ?= 3
cluster: $(VENV)/.runtime
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { echo "make cluster needs nginx: apt-get install nginx" >&2; exit 1; }
	$(PY) deploy/cluster.py --replicas $(N) --port $(PORT)

# First the Debian packages the browser and real-data tests need (installed if root, else
# the command to run), so that `make test` runs the whole suite, never skipping it; then the
# linters (seconds), then the tests: those without a browser on every core (pytest-xdist), then
# the browser tests two at a time, each file on one worker (its servers are the file's own; much of
# a browser test is waiting for the page, so two share two cores well).
test: system-deps lint
	$(PY) -m pytest -m "not browser" -n auto
	$(PY) -m pytest -m browser -n 2 --dist loadfile

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

bench-quality: $(VENV)/.train
	$(PY) bench/quality.py $(ARGS)

bench-decode: $(VENV)/.train
	$(PY) bench/decode.py $(ARGS)

bench-browser: $(VENV)/.dev
	$(PY) bench/browser.py $(ARGS)

bench-load: $(VENV)/.dev
	$(PY) bench/load.py $(ARGS)

container-check:
	../shared/tools/container-check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-output node_modules
