# device-triage: one Makefile for a fresh machine with only Python 3.11+.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export TRIAGE_DATA_DIR ?= $(CURDIR)/var

.PHONY: install run test test-fast lint audit format bench bench-triage bench-smoke system-deps screenshots clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

## make run: the whole demo on SQLite (./var made on first start): a demo facility, demo staff,
## and a demo bench (an enrolled tool, a running agent, simulated devices on a consignment);
## Ctrl-C stops the server and the agent. PORT= and HOST= say where to listen.
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo validates DUIS files against the test copy of the DCC's schema when it is there.
run: export TRIAGE_DUIS_SCHEMA ?= $(wildcard $(CURDIR)/../shared/testdata/duis)
run: install
	@$(BIN)/triage init --facility-id demo --name "Demo Triage Facility" >/dev/null
	@exec $(BIN)/triage demo --serve --host "$(HOST)" --port "$(PORT)"

## system-deps: what pip cannot bring: the PostgreSQL server for the tests, poppler-utils and
## zbar-tools (the tests read back the QR codes printed on labels and certificates), Debian's
## Chromium, which Playwright drives for the web tests, and Go with golang.org/x/mod, whose
## sumdb/tlog checks the ledger's tiles independently (tests/interop). apt-get waits up to 10
## minutes for another package install to finish instead of failing: `install` for the dpkg lock
## (DPkg::Lock::Timeout), `update` for the package lists' lock, which that option does not cover
## (apt 2.6), by trying again every 5 seconds.
system-deps:
	@missing=""; \
	if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then \
		missing="$$missing postgresql"; fi; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	command -v zbarimg >/dev/null || missing="$$missing zbar-tools"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v go >/dev/null || missing="$$missing golang-go"; \
	[ -d /usr/share/gocode/src/golang.org/x/mod/sumdb/tlog ] || missing="$$missing golang-golang-x-mod-dev"; \
	if [ -n "$$missing" ]; then \
		echo "installing with apt-get:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		updated=""; \
		for wait in $$(seq 120); do \
			if out=$$(apt-get -o DPkg::Lock::Timeout=600 update -qq 2>&1); then updated=1; break; fi; \
			case "$$out" in *"Could not get lock"*) \
				if [ "$$wait" = 1 ]; then echo "apt-get update: waiting for another package install"; fi; \
				sleep 5;; \
			*) echo "$$out" >&2; exit 1;; esac; \
		done; \
		if [ -z "$$updated" ]; then echo "apt-get update: still locked after 10 minutes" >&2; exit 1; fi; \
		apt-get -o DPkg::Lock::Timeout=600 install -y -qq $$missing >/dev/null; \
	fi

## make test: install everything needed and run the whole suite (SQLite and PostgreSQL).
test: install system-deps
	@# The suite starts the `triage` command a few thousand times: compiled once here, its modules
	@# are not compiled again by every process (where PYTHONDONTWRITEBYTECODE is set, none would
	@# ever be cached, costing a quarter of a second per start).
	$(BIN)/python -m compileall -q -j 0 src
	$(BIN)/pytest -n auto --dist loadgroup -q

test-fast: install
	$(BIN)/pytest -q -m "not slow and not postgres"

## make screenshots: refresh the pictures of the pages in docs/screenshots (a real Chromium).
screenshots: install system-deps
	TRIAGE_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest -q -p no:cacheprovider tests/e2e/test_web*.py

## make audit: pip-audit of the locked dependencies; fails on a known vulnerability, and also
## when no vulnerability service can be reached (CI passes --offline-ok: then it only warns).
audit: install
	$(BIN)/python .ci/audit.py $(AUDIT_FLAGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

## make bench: the ledger benchmark (minutes); results go to docs/performance.md. It and
## bench-triage refuse to write figures while the measured code has uncommitted changes.
bench: install system-deps
	$(BIN)/python -m bench.ledger_bench --write docs/performance.md

## make bench-triage: the end-to-end triage benchmark (tens of minutes), into bench/results/triage.md,
## one section per run: on SQLite and on PostgreSQL, 10,000 devices through the service layer and
## through the API with 6 benches (each bench an operator, a tool and its agent); then 32 benches
## at once (2,000 devices, the API only). The agents and the bench workers wait for their work
## orders and their jobs with waiting reads (`Prefer: wait`), as `triage agent run` does.
BUSY_BENCH := --skip-service --devices 2000 --workers 32 --agents 32
bench-triage: install system-deps
	$(BIN)/python -m bench.triage_bench --backend sqlite --workers 6 --agents 6 --write bench/results/triage.md
	$(BIN)/python -m bench.triage_bench --backend postgresql --workers 6 --agents 6 --write bench/results/triage.md
	$(BIN)/python -m bench.triage_bench --backend sqlite $(BUSY_BENCH) --write bench/results/triage.md
	$(BIN)/python -m bench.triage_bench --backend postgresql $(BUSY_BENCH) --write bench/results/triage.md

## make bench-smoke: 300 simulated devices through the service layer (well under a minute); prints
## the service layer's CPU per device (the use-case calls), the whole process's, and the code
## measured, so that a slowdown is seen in the change that causes it. No figure is written and
## nothing asserts a time.
bench-smoke: install
	@$(BIN)/python -m bench.triage_bench --devices 300 --skip-api | grep -E "^\| (Service layer CPU per device|Whole process CPU per device|Code measured)"

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

## make load: many benches at once through the API (an operator, a tool and an agent each),
## SQLite then PostgreSQL, with the correctness checks afterwards (a few minutes); the figures
## go to the "Load" section of docs/performance.md.
.PHONY: load faults
load: install system-deps
	$(BIN)/python -m bench.load --write docs/performance.md

## make faults: the same load while the server and the agents are SIGKILLed and restarted at
## seeded moments, then checks that nothing acknowledged was lost and no device is silently
## stuck (a few minutes); the report goes to docs/reliability.md.
faults: install system-deps
	$(BIN)/python -m bench.load --faults --write docs/reliability.md
