# geogrid: the two commands are `make run` (set up, load the demo, serve) and `make test`.
# Both install what is missing first: Debian packages (as root, or through sudo), a
# virtualenv in .venv, and geogrid with its extras.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
APT_PACKAGES := postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting \
                chromium chromium-driver fonts-wqy-microhei wrk
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?=

.PHONY: run install system-packages venv test test-fast contract contract-live lint format bench demo-data clean

run: install  ## start the embedded PostGIS, load the demo data and serve the API
	$(BIN)/geogrid demo

install: system-packages $(BIN)/.installed  ## everything geogrid needs, idempotent

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "installing python3-venv"; $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv && \
	  $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,notebook,print]'
	touch $@

venv: $(BIN)/.installed

test: install lint  ## the whole test suite: unit tests and integration tests on a real PostGIS
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: venv  ## only the tests that need no database
	$(BIN)/python -m pytest -m "not db" $(PYTEST_ARGS)

CONTRACT_EXAMPLES ?= 40
contract: install  ## schemathesis, all checks and phases, every role: >= 2,000 requests each
	GEOGRID_CONTRACT_EXAMPLES=$(CONTRACT_EXAMPLES) $(BIN)/python -m pytest tests/api/test_contract.py \
	  -p no:cacheprovider -s -q $(PYTEST_ARGS)

CONTRACT_LIVE_EXAMPLES ?= 3
contract-live: install  ## the schemathesis CLI against a live server, every role (schemathesis.toml)
	BIN=$(abspath $(BIN)) CONTRACT_EXAMPLES=$(CONTRACT_LIVE_EXAMPLES) bash tests/api/contract_live.sh

lint: venv
	$(BIN)/ruff check geogrid tests benchmarks geodata
	$(BIN)/ruff format --check geogrid tests benchmarks geodata
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format geogrid tests benchmarks geodata
	$(BIN)/ruff check --fix geogrid tests benchmarks geodata

bench: install  ## print the benchmark figures quoted in the issues
	$(BIN)/python benchmarks/load.py

demo-data: venv  ## regenerate geodata/pingyang-demo.gpkg.zip (deterministic)
	$(BIN)/python geodata/generate.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
