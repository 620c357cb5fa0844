# The two set-up commands (see README.md): `make demo` and `make test`.
# Each creates the virtual environment in .venv, or refreshes it when pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PORT ?= 8000

.PHONY: demo test bench bench-100k venv system-deps clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

venv: $(BIN)/.installed

## Build the bundled demo board (with a few weeks of history) and serve it on http://127.0.0.1:$(PORT)/
demo: venv
	$(BIN)/mdboard demo --port $(PORT)

## Debian's chromium and CJK fonts for the browser tests, and GNU time for the benchmark's
## memory figures, installed with apt-get only when missing.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi 'noto.*cjk' || [ ! -x /usr/bin/time ]; then \
		echo "installing chromium, fonts-noto-cjk and time with apt-get"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk time >/dev/null; \
	fi

## Install everything the tests need and run the whole suite.
test: venv system-deps
	$(BIN)/python -m pytest -q

## The full benchmark: 10,000 cards and 20,000 commits (takes several minutes).
bench: venv system-deps
	$(BIN)/python bench/run.py --cards 10000 --commits 20000

## A year of after-sales: 100,000 cards and 200,000 commits, most archived (generating the board
## takes minutes, the whole run about an hour on two cores).
bench-100k: venv system-deps
	$(BIN)/python bench/run.py --cards 100000 --commits 200000 --runs 3

clean:
	rm -rf $(VENV) .pytest_cache _site .demo
