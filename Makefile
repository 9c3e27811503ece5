# Two commands do all set-up on a fresh machine (Python 3.11):
#   make run    create .venv from requirements.txt if missing, then serve the explorer on :8501
#   make test   create .venv with the test tools if missing, then run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test test-fast bench-quality bench-decode bench-browser bench-load container-check clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(PY) -m streamlit run app/streamlit_app.py --server.port $(PORT)

test: $(VENV)/.dev
	$(PY) -m pytest

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
	rm -rf $(VENV) .pytest_cache test-output
