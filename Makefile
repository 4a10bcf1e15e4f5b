# overdue: every target sets up what it needs first (a venv from the lock file, Debian packages).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
export OVERDUE_HOME ?= $(CURDIR)/var
export DAGSTER_HOME := $(OVERDUE_HOME)/dagster_home
export GX_ANALYTICS_ENABLED := false

DEMO_ACCOUNTS ?= 20000
DEMO_DAYS ?= 180
BENCH_ACCOUNTS ?= 1000000
CHAOS_TRIALS ?= 10
BENCH_WORKLOADS ?= W1M,W1M-noretrain,W1M-360
# the split book's bench: these shard counts against one warehouse (issue 21)
BENCH_SHARDS ?= 2

.PHONY: setup demo test ui bench lint clean chaos fresh-check postgres split-check

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml scripts/install-system-packages
	scripts/install-system-packages
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --system-certs --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --system-certs --python $(BIN)/python --no-deps -e .
	touch $@

demo: setup
	$(BIN)/overdue demo --fresh --accounts $(DEMO_ACCOUNTS) --days $(DEMO_DAYS)

# two workers, one per core; TEST_WORKERS=0 runs the suite in one process
TEST_WORKERS ?= 2
test: setup
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

ui: setup
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/python -c 'from pipelines.cli import ensure_instance; ensure_instance()'
	$(BIN)/dg dev --host 127.0.0.1 --port 3000

bench: setup
	$(BIN)/python -m tooling.bench.stages --accounts $(BENCH_ACCOUNTS)
	$(BIN)/python -m tooling.bench.night --workloads $(BENCH_WORKLOADS)
	$(BIN)/python -m tooling.bench.shards --accounts $(BENCH_ACCOUNTS) --days 2 --shards $(BENCH_SHARDS)

# the local PostgreSQL a book split into shards (OVERDUE_SHARDS > 1) keeps its run history in;
# `overdue run` starts it too when it is not running
postgres: setup
	scripts/postgres start

# kill -9 at seeded points of a night, rerun, compare with a clean night (tables, files, registry)
chaos: setup
	$(BIN)/python scripts/chaos --trials $(CHAOS_TRIALS) --work $(OVERDUE_HOME)/chaos

# the same simulated book night by night as one warehouse and as SPLIT_SHARDS shards: every table,
# letter and report compared (issue 21); SPLIT_CHECK_ARGS=--model first runs the nights a month
# before, so that a model is trained and scores on the last nights (twice the nights)
SPLIT_SHARDS ?= 8
SPLIT_CHECK_ARGS ?=
split-check: setup
	nice $(BIN)/python scripts/split-check --shards $(SPLIT_SHARDS) $(SPLIT_CHECK_ARGS) --work $(OVERDUE_HOME)/split-check

# clone HEAD into an empty directory and run the README's two commands exactly as written
fresh-check:
	scripts/fresh-check

lint: setup
	$(BIN)/ruff check pipelines models tooling tests

# Regenerate the lock after changing dependencies in pyproject.toml.
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev -o requirements.lock --python-version 3.11

clean:
	rm -rf $(VENV) .pytest_cache
