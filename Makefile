# Dengji — the README's two commands: `make run` and `make test`.
# Both create .venv, install the project with its test extra, and install the Debian/Ubuntu
# libraries Qt needs when they are missing; `make test` also installs PostgreSQL when no initdb
# is found (the tests start a throwaway cluster of their own: tests/pg/cluster.py).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# Debian/Ubuntu packages that PySide6 needs (offscreen and a real window).
QT_DEBS := libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libglib2.0-0 libfontconfig1 \
           libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 \
           libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 \
           libxcb-xfixes0 libxcb-util1 fonts-wqy-microhei poppler-utils zbar-tools

.PHONY: run test bench bundle sysdeps pgdeps venv lint clean

run: venv sysdeps
	$(VENV)/bin/dengji $(ARGS)

test: venv sysdeps pgdeps
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

bench: venv
	$(PY) bench/run_all.py

# One-folder application in dist/dengji-<version>/, then its own smoke test.
bundle: venv sysdeps
	$(PY) -m pip install --quiet 'pyinstaller>=6.10'
	$(VENV)/bin/pyinstaller --noconfirm --clean build.spec
	QT_QPA_PLATFORM=offscreen dist/dengji-*/dengji --smoke-test

lint: venv
	$(PY) -m ruff check desktop tests bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Installs only what is missing; needs root (or sudo) the first time on a bare machine.
sysdeps:
	@missing=""; \
	if command -v dpkg-query >/dev/null 2>&1; then \
	  for p in $(QT_DEBS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	  done; \
	fi; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system libraries for Qt:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
	  || echo "warning: could not install:$$missing (run as root, or install them by hand)"; \
	fi

# PostgreSQL for the tests of registers on a server (docs/postgresql.md), from Debian's packages
# when no initdb is on PATH or in /usr/lib/postgresql/*/bin; without it those tests skip.
pgdeps:
	@if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "Installing PostgreSQL (the tests start a throwaway cluster of their own)"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null \
	  || echo "warning: could not install postgresql (run as root, or install it by hand): the PostgreSQL tests will be skipped"; \
	fi

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
