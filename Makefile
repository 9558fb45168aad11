# `make test` and `make demo` do all set-up themselves on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Every package comes from a lock file with hashes (requirements/, made by `make lock`): the
# same versions on every machine, and nothing altered on the way. The project itself is then
# installed without dependencies.
LOCK := requirements/test.txt
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | cksum | cut -d' ' -f1)
INSTALL_LOCKED = $(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)

# Three workers, each with its own Synapse: most of the suite waits on the homeserver (a rate
# limit, a 30 s outage, a kill), so the others run meanwhile; on two cores three finished in
# 8m05s where two took 9m50s. Slowest first, one test at a time to each worker (the order is
# tests/durations.json's: tests/ordering.py), so no long scene starts last; they are listed.
PYTEST := $(BIN)/pytest -q -n 3 --dist load --maxschedchunk 1 --durations=15

.PHONY: install lint format test durations test-fast test-faults bench demo lock clean i18n i18n-check

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(INSTALL_LOCKED)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	rm -f $(VENV)/.installed-*
	touch $@

# The translations, compiled beside their sources (the wheel's build compiles them too, see
# setup.py); a catalogue changed since is compiled again.
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard commands/locale/*/LC_MESSAGES/messages.po))
commands/locale/%/LC_MESSAGES/messages.mo: commands/locale/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -d commands/locale -D messages -l $* -i $< -o $@ >/dev/null

# A committee member's client on the stack Element uses (matrix-js-sdk with its Rust crypto),
# for the Synapse tests that check threads and polls as Element sees them: from its lock file.
ELEMENT := devkit/element
$(ELEMENT)/node_modules/.installed: $(ELEMENT)/package.json $(ELEMENT)/package-lock.json
	npm ci --prefix $(ELEMENT) --no-audit --no-fund --loglevel=error
	touch $@

install: $(STAMP) $(CATALOGUES) $(ELEMENT)/node_modules/.installed

# Every message of the code, the templates, the commands' help and the catalogue into
# commands/locale/messages.pot, and from there into each language's catalogue (new messages
# untranslated; gone ones dropped). A new language: pybabel init -l pt (see the README).
POT := commands/locale/messages.pot
EXTRACT := $(BIN)/pybabel extract -F babel.cfg --add-location=file --sort-by-file --no-wrap
i18n: $(STAMP)
	$(EXTRACT) -o $(POT) . >/dev/null
	$(BIN)/pybabel update -i $(POT) -d commands/locale -D messages --no-fuzzy-matching \
		--no-wrap --ignore-obsolete
	$(BIN)/python -m devkit.i18n_check --report

# Fails when a message in the code or the templates has no entry in a catalogue, or when a
# translation's placeholders differ from the English; says how much each language has.
i18n-check: $(STAMP)
	$(BIN)/python -m devkit.i18n_check

# A throwaway Synapse, the bot on embedded defaults, a scripted scenario; then it keeps
# running for anyone to log in until Ctrl-C. (The demo needs Synapse: the test lock has it.)
demo: $(STAMP)
	$(BIN)/rcc-bot demo

# Refresh the lock files after changing dependencies in pyproject.toml (pins that still fit
# are kept); `make lock UPGRADE=--upgrade` moves every package to its newest allowed release.
COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes \
	--strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links $(UPGRADE)
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-tools
	$(COMPILE) --extra postgres -o requirements/runtime.txt pyproject.toml
	$(COMPILE) --extra postgres --extra pdf -o requirements/pdf.txt pyproject.toml
	$(COMPILE) --extra postgres --extra pdf --extra test -o requirements/test.txt pyproject.toml

# ruff, then mypy over bot/, commands/ and storage/ (the settings are in pyproject.toml).
lint: install
	$(BIN)/python -m devkit.i18n_check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(PYTEST)

# Measure every test again for the slowest-first order (then commit tests/durations.json).
durations: lint
	RCC_RECORD_DURATIONS=tests/durations.json $(PYTEST)

test-fast: install
	$(PYTEST) -m "not synapse"

# The fault-injection suite alone (it is part of `make test` too): kills, outages, gaps,
# late keys, hostile input. RCC_FAULT_SEED=n replays a run of the random kills.
test-faults: install
	$(PYTEST) -m faults

# Each benchmark starts its own Synapse, prints a table and writes bench/results/NAME.json;
# the plot for the README is drawn from those. The soak (20,000 commands) is the longest.
bench: install
	$(BIN)/python -m bench.parse
	$(BIN)/python -m bench.digest
	$(BIN)/python -m bench.roundtrip
	$(BIN)/python -m bench.rush
	$(BIN)/python -m bench.broadcast
	$(BIN)/python -m bench.soak
	$(BIN)/python -m bench.year
	$(BIN)/python -m bench.plot

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
