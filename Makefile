# Two commands do all set-up on a fresh machine:
#   make run   - create .venv, install, run the main demo comparison, write its HTML report, print where both are
#   make test  - install test needs (incl. Debian's chromium for browser tests) and run the suite, notebooks included
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= results/demo
REPLICATES ?= 20

.PHONY: run test mutation app calibrate reference install install-test chromium clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[app]"
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test,dask,ema,app,abc]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test chromium

# Debian's chromium drives the browser tests (Playwright cannot download browsers here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: $(VENV)/.installed
	$(VENV)/bin/pfpp compare siloed_baseline pfpp_joined_up --replicates $(REPLICATES) --seed 1 --out $(OUT) --overwrite
	$(VENV)/bin/pfpp report $(OUT)

app: $(VENV)/.installed
	$(VENV)/bin/pfpp app

# Fit every English authority's baseline again: writes calibration/fitted/england.toml (in the
# repository, the shipped fit itself) and calibration/reports/england/report.html.
calibrate: $(VENV)/.installed
	$(VENV)/bin/pfpp calibrate --places all --holdout-last-year

# The scenario and sweep file reference, generated from the models (a test checks it is current).
reference: $(VENV)/.installed
	$(PY) -m pfpp_sim.reference docs/reference.md

test: install-test
	$(VENV)/bin/ruff check pfpp_sim tests benchmarks tools
	$(PY) -m pytest -n 2 -q

# Mutation score of each module of [tool.mutmut] only_mutate, one module at a time, written to
# docs/mutation.md (tests/README.md says why survivors are accepted). All of them take hours on
# two cores; MODULES="pfpp_sim/funding.py pfpp_sim/agents/council.py" mutates only those.
mutation: $(VENV)/.installed-test
	$(PY) -m pip install --quiet -e ".[mutation]"
	PATH="$(abspath $(VENV))/bin:$$PATH" sh tools/mutation.sh $(MODULES)

clean:
	rm -rf $(VENV) results .pytest_cache mutants
