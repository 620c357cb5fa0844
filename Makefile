# The two set-up commands (see README.md): `make demo` and `make test`.
# Each creates the virtual environment in .venv, or refreshes it when pyproject.toml changed:
# `make demo` installs mdboard alone, `make test` adds the test packages.
# `make install` puts the `mdboard` command on your PATH (in $(PREFIX)/bin).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PORT ?= 8000
PREFIX ?= $(HOME)/.local
INSTALL_VENV = $(PREFIX)/share/mdboard/venv
PIP = -m pip install -q --disable-pip-version-check

.PHONY: demo test screenshots bench bench-100k venv install uninstall system-deps python-version catalogues clean

python-version:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "mdboard needs Python 3.11 or newer (mdboard 需要 Python 3.11 或更新的版本); $(PYTHON) is $$($(PYTHON) -V 2>&1)"; exit 1; }

# mdboard and what it needs to run (make demo)
$(BIN)/.installed-run: pyproject.toml | python-version
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python $(PIP) -e .
	touch $@

# ... and the test packages (make test, make venv)
$(BIN)/.installed-test: $(BIN)/.installed-run
	$(BIN)/python $(PIP) -e '.[test]'
	touch $@

venv: $(BIN)/.installed-test

## Build the bundled demo board (with a few weeks of history) and serve it on http://127.0.0.1:$(PORT)/
demo: $(BIN)/.installed-run
	$(BIN)/mdboard demo --port $(PORT)

## Put `mdboard` on the PATH: its own virtual environment in $(PREFIX)/share/mdboard, the command
## linked into $(PREFIX)/bin (the place pipx and pip --user use). `make uninstall` takes both away.
install: python-version
	$(PYTHON) -m venv --clear $(INSTALL_VENV)
	$(INSTALL_VENV)/bin/python $(PIP) .
	mkdir -p $(PREFIX)/bin
	ln -sf $(INSTALL_VENV)/bin/mdboard $(PREFIX)/bin/mdboard
	@case ":$$PATH:" in \
		*":$(PREFIX)/bin:"*) echo "installed: $(PREFIX)/bin/mdboard (已安装)";; \
		*) echo "installed $(PREFIX)/bin/mdboard, but $(PREFIX)/bin is not on your PATH (已安装，但 $(PREFIX)/bin 不在 PATH 里)."; \
		   echo "add this line to ~/.bashrc (or ~/.zshrc) and open a new terminal (把下面这行加到 ~/.bashrc 或 ~/.zshrc，再开一个新终端):"; \
		   echo "  export PATH=\"$(PREFIX)/bin:\$$PATH\"";; \
	esac

uninstall:
	rm -rf $(PREFIX)/share/mdboard
	rm -f $(PREFIX)/bin/mdboard

## Debian's chromium and CJK fonts for the browser tests, and GNU time for the benchmark's
## memory figures, installed with apt-get only when missing.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi 'noto.*cjk' || [ ! -x /usr/bin/time ]; then \
		echo "installing chromium, fonts-noto-cjk and time with apt-get"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk time >/dev/null; \
	fi

## Install everything the tests need and run the whole suite (one worker per core; a worker that
## runs out of tests takes some from another's queue, so one long test does not hold up the end).
## Python writes its compiled modules even where PYTHONDONTWRITEBYTECODE is set: otherwise each of
## the suite's hundreds of `mdboard` processes compiles mdboard again, and each worker rewrites
## every test file (about a quarter of the CPU of the tests that run the command).
test: venv system-deps
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist worksteal

## Screenshots of every page of the demo site at a phone's 390 px, for people to look through
## (written to tests/output/phone-390/; not part of `make test`).
screenshots: venv system-deps
	$(BIN)/python -m pytest -q -m screenshots tests/browser/test_site_layout.py

## The full benchmark: 10,000 cards and 20,000 commits (takes several minutes).
bench: venv system-deps
	$(BIN)/python bench/run.py --cards 10000 --commits 20000

## A year of after-sales: 100,000 cards and 200,000 commits, most archived (generating the board
## takes minutes, the whole run about an hour on two cores).
bench-100k: venv system-deps
	$(BIN)/python bench/run.py --cards 100000 --commits 200000 --runs 3

## click's words in Chinese: compile mdboard/locale/zh-CN/LC_MESSAGES/click.po after changing it.
catalogues: $(BIN)/.installed-run
	$(BIN)/pybabel compile -l zh_Hans_CN -i mdboard/locale/zh-CN/LC_MESSAGES/click.po \
		-o mdboard/locale/zh-CN/LC_MESSAGES/click.mo

clean:
	rm -rf $(VENV) .pytest_cache _site .demo
