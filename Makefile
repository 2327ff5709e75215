# `make demo` and `make test` each set everything up (virtualenv, install) and then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean system-deps browser-deps

demo: $(STAMP) system-deps
	$(BIN)/python examples/demo.py

# One test process per core (pytest-xdist; an idle one takes tests from a busy one's queue);
# `pytest` alone runs them one after another.
test: $(STAMP) system-deps browser-deps
	$(BIN)/python -m pytest -n auto --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_ops.py

# (Re)install when the virtualenv is missing or pyproject.toml changed.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The graphviz Python package needs the system `dot` program to render pictures, and `make test`
# opens the report page in a headless chromium. Install them when missing and we can (root on
# Debian/Ubuntu); otherwise say how, and carry on (DOT files are still written; the browser test
# is skipped).
system-deps:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing graphviz (for the 'dot' program)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null) \
	      || echo "warning: could not install graphviz; pictures will be DOT files only"; \
	  else \
	    echo "note: graphviz 'dot' not found; install it (apt-get install graphviz / brew install graphviz / conda install graphviz) for rendered pictures"; \
	  fi; }

browser-deps:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium (the report page's test opens it in a headless browser)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; the browser test of the report will be skipped"; \
	  else \
	    echo "note: chromium not found; the browser test of the report page will be skipped"; \
	  fi; }

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
