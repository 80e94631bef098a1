# Kindred: every command a developer or an operator needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
SAM_VENV := .venv-sam
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAM_STAMP := $(SAM_VENV)/.installed
# Lambda's python3.13, for bench-coldstart: on PATH, else pyenv's newest 3.13 (empty if neither).
ifeq ($(origin PYTHON313),undefined)
PYTHON313 := $(shell { python3.13 -c 'import sys; print(sys.executable)' \
	|| PYENV_VERSION=$$(pyenv versions --bare | grep '^3\.13' | tail -1) \
	python3.13 -c 'import sys; print(sys.executable)'; } 2>/dev/null | head -1)
endif
VENV313 := .venv-313
PIP_QUIET := --quiet --disable-pip-version-check

BENCHES := cost scale coldstart load detector sweeper board
.PHONY: help setup run test impact bench $(addprefix bench-,$(BENCHES)) test-fast lint format build deploy web-config publish-web clean lock train-detector

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): requirements/dev.txt requirements/dev.lock layers/core/requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Kindred needs $(PYTHON) (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_QUIET) -r requirements/dev.txt -c requirements/dev.lock
	@touch $@

$(SAM_STAMP): requirements/sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install $(PIP_QUIET) -r requirements/sam.txt
	@touch $@

# The layer's pinned requirements and the baseline's boto3 on python3.13: the cold start bench's.
$(VENV313)/.installed: layers/core/requirements.txt requirements/dev.lock
	@test -n "$(PYTHON313)" || { echo "no python3.13 (set PYTHON313=...)"; exit 1; }
	$(PYTHON313) -m venv $(VENV313)
	$(VENV313)/bin/pip install $(PIP_QUIET) -r layers/core/requirements.txt boto3 -c requirements/dev.lock
	@touch $@

# The development requirements on python3.13: `make test` runs the unit tests there too, but
# the detector's quality figures (the same arithmetic on any version; 70 s of CI).
DETECTOR_QUALITY := --deselect tests/unit/test_detector_quality.py
$(VENV313)-dev/.installed: requirements/dev.txt requirements/dev.lock layers/core/requirements.txt
	@test -n "$(PYTHON313)" || { echo "no python3.13 (set PYTHON313=...)"; exit 1; }
	$(PYTHON313) -m venv $(VENV313)-dev
	$(VENV313)-dev/bin/pip install $(PIP_QUIET) -r requirements/dev.txt -c requirements/dev.lock
	@touch $@

setup: $(STAMP) $(SAM_STAMP)  ## create the virtualenvs (done by every target that needs them)

run: $(STAMP)  ## the local stack: web page at http://127.0.0.1:8080/ (ARGS="--port 9080" to change)
	$(BIN)/python -m local.run $(ARGS)

test: $(STAMP) $(SAM_STAMP) $(if $(PYTHON313),$(VENV313)-dev/.installed)  ## run every test (and the unit tests on Lambda's python3.13, when there is one)
	@# Two runs side by side, one a core: the unit tests (the detector's quality figures
	@# among them: CPU), then the same on python3.13; and the rest in pytest's own order (the
	@# local stack over WebSockets and in Chromium, mostly waiting, then moto, the template and
	@# sam build: the e2e tests after the integration tests fail, moto's state in-process).
	@# The unit runs' output comes after the rest's; any run failing fails make.
	@( $(BIN)/pytest -q -p no:cacheprovider tests/unit; on311=$$?; \
	  $(if $(PYTHON313),echo "The unit tests on $(PYTHON313):"; $(VENV313)-dev/bin/pytest -q -p no:cacheprovider tests/unit $(DETECTOR_QUALITY); on313=$$?;,echo "no python3.13: the unit tests ran on $(PYTHON) only"; on313=0;) \
	  test $$on311 -eq 0 && test $$on313 -eq 0 ) > $(VENV)/unit-tests.log 2>&1 & units=$$!; \
	SAM_CLI=$(CURDIR)/$(SAM_VENV)/bin/sam $(BIN)/pytest tests/e2e tests/integration tests/template; rest=$$?; \
	wait $$units; unit=$$?; echo "The unit tests:"; cat $(VENV)/unit-tests.log; \
	test $$rest -eq 0 && test $$unit -eq 0

test-fast: $(STAMP) $(SAM_STAMP)  ## every test except the slow ones (sam build)
	SAM_CLI=$(CURDIR)/$(SAM_VENV)/bin/sam $(BIN)/pytest -m "not slow"

lint: $(STAMP)  ## ruff, ruff format --check, mypy, cfn-lint, the import graph
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/core/kindred functions local tools
	$(BIN)/cfn-lint template.yaml
	$(BIN)/python -m tools.check_imports

format: $(STAMP)  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

build: $(SAM_STAMP)  ## sam build (no Docker needed)
	$(SAM_VENV)/bin/sam build

deploy: build  ## sam deploy with samconfig.toml's settings (GUIDED=1 to be asked for each one)
	$(SAM_VENV)/bin/sam deploy $(if $(GUIDED),--guided)

web-config: $(STAMP)  ## build/web/: web/ plus config.json from the deployed stack (STACK=, REGION=, ORIGIN=https://...)
	$(BIN)/python -m tools.web_config --out build/web $(if $(STACK),--stack $(STACK)) $(if $(REGION),--region $(REGION)) $(if $(ORIGIN),--origin $(ORIGIN))

publish-web: web-config  ## web-config, then upload build/web/ to the S3 bucket WEB_BUCKET (AWS CLI)
	@test -n "$(WEB_BUCKET)" || { echo "publish-web: set WEB_BUCKET=<bucket>, or copy build/web/ to any static host"; exit 2; }
	aws s3 sync build/web/ s3://$(WEB_BUCKET)/ --delete --cache-control no-cache

impact: $(STAMP)  ## a month's check-in totals, counts under 10 hidden (MONTH=2025-05 STACK= REGION=)
	$(BIN)/python -m tools.impact $(if $(MONTH),--month $(MONTH)) $(if $(STACK),--stack $(STACK)) $(if $(REGION),--region $(REGION))

bench: $(addprefix bench-,$(BENCHES))  ## every benchmark (figures in bench/results/ and bench/README.md)

bench-cost: $(STAMP)  ## dollars per 1,000 conversations beside the floor, and the idle month
	$(BIN)/python -m bench.cost

bench-scale: $(STAMP)  ## AWS calls per relayed message at 1, 10, 100 and 1,000 chats
	$(BIN)/python -m bench.scale

bench-coldstart: $(STAMP) $(if $(PYTHON313),$(VENV313)/.installed)  ## each function's cold start beside boto3 alone (on python3.13 if there is one)
	$(BIN)/python -m bench.coldstart $(if $(PYTHON313),--python $(VENV313)/bin/python)

bench-load: $(STAMP)  ## N seeker-volunteer pairs through the local stack (ARGS="--pairs 10 100 300")
	$(BIN)/python -m bench.load $(ARGS)

bench-sweeper: $(STAMP)  ## one sweeper run over 10,000 connections inside its 60 s timeout? (ARGS="--connections 2000")
	$(BIN)/python -m bench.sweeper $(ARGS)

bench-board: $(STAMP)  ## the supervisors' board: its calls and dollars per hour at 10 and 100 chats (ARGS="--minutes 5")
	$(BIN)/python -m bench.board $(ARGS)

bench-detector: $(STAMP)  ## microseconds per message of the crisis detector
	$(BIN)/python bench/detector.py

train-detector: $(STAMP)  ## retrain the crisis detector's net from tests/data/crisis/dev.jsonl (about a minute)
	$(BIN)/python -m tools.train_crisis_model

lock: $(STAMP)  ## re-pin requirements/dev.lock from the current virtualenv
	{ echo "# Every package of the dev virtualenv, pinned (pip freeze). Regenerate with 'make lock'."; \
	  $(BIN)/pip freeze; } > requirements/dev.lock

clean:  ## remove build output and caches (keeps the virtualenvs)
	rm -rf .aws-sam build .pytest_cache .mypy_cache .ruff_cache test-artifacts
