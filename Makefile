# invoice_bridge — developer commands. Everything goes through tools/ibctl.py (standard library only).
PYTHON ?= python3
IBCTL := $(PYTHON) tools/ibctl.py

.PHONY: setup test demo bench lint pot screenshots

setup:  ## virtualenv, Python and Debian dependencies, Odoo's requirements
	$(IBCTL) setup

test: lint  ## lint, then Odoo's test runner on a fresh database, then pytest tests/; last line "N passed, N failed"
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
