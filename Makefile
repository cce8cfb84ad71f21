# Every target creates what it needs. Python 3.11+, Node 20+ and make are all a machine must have.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CDK := node_modules/.bin/cdk
PYTEST := $(BIN)/pytest
# The browser test drives Debian's Chromium (never a browser download of a test tool).
CHROMIUM := /usr/bin/chromium
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

.PHONY: help install browser demo validate test unit integration infra e2e lint format synth local \
	deploy bench test-localstack lock clean

help:
	@echo "make demo            bill a synthetic hoster on the embedded AWS (creates everything)"
	@echo "make test            run the whole test suite (creates everything)"
	@echo "make validate        check e-invoices (FILES=..., default demo-out/invoices) with the official rules"
	@echo "make lint            ruff and mypy"
	@echo "make synth           cdk synth into cdk.out (no Docker needed)"
	@echo "make local           start the embedded AWS and the local HTTP APIs"
	@echo "make deploy          cdk deploy to the AWS account of your credentials"
	@echo "make bench           benchmarks; figures to bench-results.json"
	@echo "make test-localstack integration suite against a LocalStack at AWS_ENDPOINT_URL"

install: $(STAMP) $(NODE_STAMP)

browser: $(CHROMIUM)

$(CHROMIUM):
	@[ "$$(id -u)" = 0 ] || { echo "the portal's browser test needs Debian's chromium:" \
		"sudo apt-get install -y chromium"; exit 1; }
	@echo "installing Debian's chromium for the portal's browser test"
	@start=$$(date +%s); export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null && \
		echo "chromium installed in $$(( $$(date +%s) - start )) s"

$(STAMP): requirements/dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "python 3.11 or newer is needed (found $$($(PYTHON) --version))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(UV) pip install --quiet --python $(BIN)/python -r requirements/dev.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

demo: $(STAMP)
	$(BIN)/billing demo
	@echo "checking every e-invoice of demo-out/invoices with the official EN 16931 and XRechnung rules"
	@$(BIN)/python -m tools.einvoice.validator --quiet demo-out/invoices/*

validate: $(STAMP)
	$(BIN)/python -m tools.einvoice.validator $(or $(FILES),demo-out/invoices/*)

test: install browser
	$(PYTEST) -n 2 --dist loadgroup tests

unit: $(STAMP)
	$(PYTEST) tests/unit

integration: $(STAMP)
	$(PYTEST) -n 2 tests/integration

infra: install
	$(PYTEST) tests/infrastructure

e2e: install browser
	$(PYTEST) tests/e2e

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared functions infra cli localaws tools bench

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

synth: install
	PATH=$(abspath $(BIN)):$$PATH $(CDK) synth --quiet --output cdk.out
	$(BIN)/cfn-lint cdk.out/*.template.json

local: install
	$(BIN)/billing local up

deploy: install
	PATH=$(abspath $(BIN)):$$PATH $(CDK) deploy --all

bench: $(STAMP)
	$(BIN)/python -m bench

test-localstack: $(STAMP)
	$(BIN)/python -m localaws.localstack_check && \
		BILLING_TEST_TARGET=localstack $(PYTEST) tests/integration -rs || \
		{ rc=$$?; [ $$rc -eq 75 ] && exit 0 || exit $$rc; }

lock:
	$(UV) pip compile pyproject.toml --extra tools --extra dev --python-version 3.11 \
		-o requirements/dev.lock -q
	$(UV) pip compile pyproject.toml --python-version 3.12 \
		--python-platform aarch64-manylinux_2_28 -o requirements/lambda.lock -q --no-header

clean:
	rm -rf $(VENV) node_modules cdk.out demo-out bench-results.json .pytest_cache .mypy_cache
