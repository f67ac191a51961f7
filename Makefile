# touchpoint-edge: two commands on a fresh Debian / Raspberry Pi OS machine.
#   make demo   the main job on embedded defaults
#   make test   the whole suite (lint, layering, tests)
# Both create .venv, install the package and apt-get install missing system packages.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# System packages, each installed only when missing: mosquitto (tests and the demo start
# private brokers), postgresql (the HQ tests start a throwaway cluster with its initdb),
# systemd (systemd-analyze verifies the units), openssl (TLS certificates for the broker
# tests), curl (reads the feed API gzip-encoded, as docs/api.md shows), chromium and
# chromium-driver (the browser tests of the served kiosk and the dashboard), python3-venv.

.PHONY: test demo lint system-deps venv bench clean i18n

system-deps:
	@missing=""; \
	command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing="$$missing mosquitto"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing="$$missing postgresql"; \
	command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: system-deps $(STAMP)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: venv lint
	$(BIN)/pytest

demo: venv
	$(BIN)/touchpoint demo

bench: venv
	$(BIN)/python bench/edge_write.py
	$(BIN)/python bench/parsers.py
	$(BIN)/python bench/edge_memory.py
	$(BIN)/python bench/camera_speed.py
	$(BIN)/python bench/camera_accuracy.py
	$(BIN)/python bench/sync_drain.py
	$(BIN)/python bench/hq_import.py
	$(BIN)/python bench/hq_feed.py
	$(BIN)/python bench/hq_api.py
	$(BIN)/python bench/hq_alerts.py
	$(BIN)/python bench/hq_pages.py
	$(BIN)/python bench/kiosk_search.py
	$(BIN)/python bench/hq_publish.py --stores 6
	$(BIN)/python bench/pickup_queue.py

# Kiosk messages: extract with Babel, merge into the Dutch catalog, compile. The .mo
# files are committed, so a fresh checkout needs no build step; translate new entries
# in kiosk/locale/nl/LC_MESSAGES/kiosk.po, then run this again.
i18n: venv
	$(BIN)/pybabel extract -F kiosk/babel.cfg -k tr -k ntr:1,2 -k N_ --no-default-keywords \
	  --omit-header --no-location --sort-output -o kiosk/locale/kiosk.pot .
	$(BIN)/pybabel update -i kiosk/locale/kiosk.pot -d kiosk/locale -D kiosk -l nl --no-fuzzy-matching
	$(BIN)/pybabel compile -d kiosk/locale -D kiosk --statistics

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
