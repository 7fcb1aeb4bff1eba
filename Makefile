# invoice_bridge — developer commands. Everything goes through tools/ibctl (a standard-library-only package).
#
# The Odoo version: ODOO_VERSION=18|19 (trees /opt/odoo, /opt/odoo19; ODOO18_SRC / ODOO19_SRC move them) or
# ODOO_SRC=<tree> (its version is read from odoo/release.py); default 18. `make test` runs Odoo's test runner on each
# version of IB_TEST_VERSIONS (e.g. IB_TEST_VERSIONS=18,19) and pytest on IB_PYTEST_VERSIONS (their defaults:
# DEFAULT_TEST_VERSIONS / DEFAULT_PYTEST_VERSIONS in tools/ibctl/commands.py).
# Variables given on the command line (`make demo ODOO_VERSION=19`) reach tools/ibctl through the environment.
PYTHON ?= python3
IBCTL := $(PYTHON) tools/ibctl

.PHONY: setup test demo bench lint pot screenshots

setup:  ## Debian packages; one virtualenv per Odoo version (~/.cache/invoice_bridge/venv-18, venv-19)
	$(IBCTL) setup

test: lint  ## lint, then Odoo's test runner per version (standalone copy of the addon), then pytest tests/; last line "N passed, N failed"
	$(IBCTL) test

demo:   ## throwaway PostgreSQL + Odoo on http://127.0.0.1:8069 (admin/admin) + offline fakes; Ctrl-C stops all
	$(IBCTL) demo

bench:  ## bench/*.py against a fresh database; prints figures
	$(IBCTL) bench

lint:   ## ruff over the repository; pylint-odoo (OCA's mandatory checks) + OCA's XML checks on invoice_bridge/
	$(PYTHON) tools/lint.py

pot:    ## regenerate invoice_bridge/i18n/invoice_bridge.pot (checked by the tests)
	$(IBCTL) pot

SHOTS_VENV ?= $(HOME)/.cache/invoice_bridge/shots-venv
screenshots:  ## docs/screenshots/*.png from a running `make demo` (Playwright + Debian's chromium, own venv)
	test -x $(SHOTS_VENV)/bin/python || ($(PYTHON) -m venv $(SHOTS_VENV) && $(SHOTS_VENV)/bin/pip install -q playwright)
	$(SHOTS_VENV)/bin/python tools/screenshots.py
