# `make test` and `make demo` do all set-up themselves on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

DEMO_STAMP := $(VENV)/.demo-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

# Two workers, each with its own Synapse: most of the suite waits on the homeserver (a rate
# limit, a 30 s outage), so the other worker runs meanwhile. `worksteal` evens out the tail.
PYTEST := $(BIN)/pytest -q -n 2 --dist worksteal

.PHONY: install lint format test test-fast test-faults bench demo clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

$(DEMO_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	rm -f $(VENV)/.demo-*
	touch $@

# A throwaway Synapse, the bot on embedded defaults, a scripted scenario; then it keeps
# running for anyone to log in until Ctrl-C.
demo: $(DEMO_STAMP)
	$(BIN)/rcc-bot demo

# ruff, then mypy over bot/, commands/ and storage/ (the settings are in pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(PYTEST)

test-fast: install
	$(PYTEST) -m "not synapse"

# The fault-injection suite alone (it is part of `make test` too): kills, outages, gaps,
# late keys, hostile input. RCC_FAULT_SEED=n replays a run of the random kills.
test-faults: install
	$(PYTEST) -m faults

# Each benchmark starts its own Synapse, prints a table and writes bench/results/NAME.json;
# the plot for the README is drawn from those. Under ten minutes on a 2-core machine.
bench: install
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.digest
	$(BIN)/python -m bench.roundtrip
	$(BIN)/python -m bench.rush
	$(BIN)/python -m bench.broadcast
	$(BIN)/python -m bench.plot

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
