# RxLedger: `make run` plays the demo network, `make test` passes the test suite.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup compile check-artifacts run demo test lint bench clean

setup: $(STAMP) node_modules/.installed

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

compile: setup
	$(PY) -m ledger_client.compile

check-artifacts: setup
	$(PY) -m ledger_client.compile --check

run demo: setup
	$(PY) scripts/demo.py

test: setup check-artifacts
	$(PY) -m pytest -n 2 -q

lint: setup
	$(VENV)/bin/ruff check ledger_client gateway scripts tests
	$(VENV)/bin/mypy ledger_client gateway

bench: setup
	$(PY) scripts/bench_gas.py

clean:
	rm -rf $(VENV) node_modules .rxledger
