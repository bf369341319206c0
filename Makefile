# RxLedger: `make run` plays the demo network, `make test` passes the test suite.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup browser postgres geth compile check-artifacts run demo network test test-network lint bench bench-scale soak clean

setup: $(STAMP) node_modules/.installed

# Debian's chromium + chromium-driver for the pharmacy page's browser test, wrk for the
# verification benchmark (installed only where missing; needs root, as on CI).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v wrk >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver wrk >/dev/null; }

# Debian's PostgreSQL server, for the gateways that keep their store in it (`make network`, the
# PostgreSQL tests); each run starts a throwaway cluster of its own (ledger_client/dev/postgres.py).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# geth v1.13.15, the last release whose Clique engine seals, built from its Go module into
# tools/bin when missing or of another version: 4 min from scratch, 13 s once the Go module
# and build caches (outside the repository) hold it. Go >= 1.23 refuses its memsize dependency's linkname without -checklinkname=0, which
# is safe while its pprof endpoints stay off (ledger_client/dev/clique.py never turns them on).
GETH_VERSION := 1.13.15

geth:
	@tools/bin/geth version 2>/dev/null | grep -qx 'Version: $(GETH_VERSION)-stable' || \
	  GOBIN=$(abspath tools/bin) go install -ldflags=-checklinkname=0 \
	    github.com/ethereum/go-ethereum/cmd/geth@v$(GETH_VERSION)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

compile: setup
	$(PY) -m ledger_client.dev.compile

check-artifacts: setup
	$(PY) -m ledger_client.dev.compile --check

run demo: setup check-artifacts
	$(PY) scripts/demo.py

# Four partners, each its own geth signer and gateway (one on PostgreSQL), a shipment through
# three of them; the network folder is written on the first run (rxledger network init).
NETWORK_DIR ?= .rxledger/network
NETWORK_CONFIG ?= docs/network/consortium.toml

network: setup geth postgres check-artifacts
	@test -f $(NETWORK_DIR)/network.json || $(VENV)/bin/rxledger network init $(NETWORK_CONFIG) --out $(NETWORK_DIR)
	$(PY) scripts/network.py $(NETWORK_DIR)

# Everything but the multi-node tests on both cores, then the multi-node tests (four geth
# Clique signers each) one at a time, so that no test starves the signers of CPU. Both runs
# run; the target fails if either did.
test: setup browser geth postgres check-artifacts
	status=0; $(PY) -m pytest -n 2 -q || status=$$?; \
	$(PY) -m pytest -q -m network || status=$$?; exit $$status

# Only the multi-node tests.
test-network: setup geth postgres check-artifacts
	$(PY) -m pytest -q -m network

lint: setup
	$(VENV)/bin/ruff check ledger_client gateway scripts tests
	$(VENV)/bin/mypy ledger_client gateway

bench: setup browser geth
	$(PY) scripts/bench_gas.py --out docs/results/bench_gas.json
	$(PY) scripts/bench_verify.py
	$(PY) scripts/bench_replay.py
	$(PY) scripts/bench_ingest.py

# Costs per pack as the history grows on the four-signer geth network (docs/benchmarks.md);
# not part of make bench: 1,000,000 packs take about 15 minutes on 2 cores.
SCALE_PACKS ?= 1000000
bench-scale: setup geth
	$(PY) scripts/bench_scale.py --max-packs $(SCALE_PACKS)

# Mixed traffic against make run's network, memory sampled, writes checked on chain; not part
# of make test or make bench (ten minutes by default: make soak SOAK_SECONDS=60 for a short run).
SOAK_SECONDS ?= 600
soak: setup
	$(PY) scripts/soak.py --seconds $(SOAK_SECONDS)

clean:
	rm -rf $(VENV) node_modules .rxledger tools/bin
