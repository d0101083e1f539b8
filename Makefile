# The two commands a newcomer needs:  `make demo`  and  `make test`.
# Both bootstrap .venv from nothing but python3, and are no-ops for setup on a second run.

PYTHON   ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed
SCALE    ?= small
SEED     ?= 42

export DBT_PROFILES_DIR  ?= $(CURDIR)
export PLG_DUCKDB_PATH   ?= $(CURDIR)/data/plg_signals.duckdb
export DBT_SEND_ANONYMOUS_USAGE_STATS = false

.PHONY: demo test lint format install bench reliability clean docs
# `make` alone sets up .venv (the chromium rule below would otherwise be the first target).
.DEFAULT_GOAL := install

# tests/docs opens the dbt docs site in headless Chromium. Installed once (as root, Debian
# package) only when missing; a machine without apt gets a message saying what to install.
# Defined before `test`: make expands a rule's prerequisites when it reads the rule, so a
# variable set later would be empty there and the install step would silently drop out
# (tests/package/test_makefile.py guards this).
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	@echo "installing chromium for tests/docs (apt-get, once)..."
	@(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || { echo "error: could not install chromium with apt-get (needs root and Debian/Ubuntu)."; \
	       echo "       Install the Chromium browser so that $(CHROMIUM) exists, then rerun make test."; \
	       exit 1; }


install: $(STAMP) profiles.yml

# Reinstall only when pyproject.toml changed (the stamp is newer otherwise).
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[dev]"
	@touch $@

# Created once from the example; your edits (Snowflake/BigQuery targets) are never overwritten.
profiles.yml:
	@cp profiles.example.yml profiles.yml
	@echo "created profiles.yml from profiles.example.yml (git ignores it)"

demo: install
	@$(BIN)/python -m sync.demo_job --scale $(SCALE) --seed $(SEED)

# Three workers on the 2-core machines this project targets: with two, a core sat idle while a
# worker waited on a stand-in, a pacing sleep or a dbt subprocess's I/O (1.6 cores busy on
# average); three keep both busy (6 min 11 s vs 6 min 45 s, 2026-11-30). One test file per worker
# at a time so module fixtures are built once; the demo warehouse is built once and copied to
# each worker (tests/conftest.py). PYTEST_WORKERS=0 runs everything in one process. The 15
# slowest tests are listed at the end: `make test` must stay under 8 minutes on two quiet cores.
PYTEST_WORKERS ?= 3
test: install lint $(CHROMIUM)
	@$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile --durations=15

# dbt docs site of the demo warehouse (run `make demo` first), with the sync exposures.
docs: install
	@$(BIN)/dbt docs generate
	@echo "docs written to target/; serve them with:  .venv/bin/dbt docs serve --port 8080"
	@echo "(or: python3 -m http.server 8080 --directory target) and open http://localhost:8080"

lint: install
	@$(BIN)/ruff check sync tests bench
	@$(BIN)/ruff format --check sync tests bench

format: install
	@$(BIN)/ruff format sync tests bench
	@$(BIN)/ruff check --fix sync tests bench

# The long reliability suite (fault matrix at 10/30/60%, 20 SIGKILL trials); writes the
# figures table into docs/reliability.md. `make test` runs its quick subset.
reliability: install
	@PLG_RELIABILITY_FULL=1 $(BIN)/python -m pytest tests/reliability -q
	@$(BIN)/python tests/reliability/report.py

# Benchmarks behind docs/benchmarks.md (about an hour on 2 cores); `make bench ARGS=--quick`
# runs small sizes in under 5 min and writes bench/results/quick/ instead.
bench: install
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[dev,bench]"
	@$(BIN)/python bench/run_all.py $(ARGS)

clean:
	rm -rf target logs data dbt_packages .pytest_cache
