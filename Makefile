# The single entry point. `make up` runs the platform locally; `make test` runs every check and test.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
PYTEST_ARGS ?=

.PHONY: help setup up down status logs install lint typecheck contracts protos unit integration e2e federation test bench clean

help:
	@echo "make up        install what is missing, start Kafka, FerretDB and the four services (Ctrl-C stops)"
	@echo "make down      stop everything 'make up' started"
	@echo "make status    what runs, on which ports; a crashed component with its log tail"
	@echo "make test      lint, type-check, contract checks, then unit, integration, end-to-end and federation tests"
	@echo "make federation  only the federation tests (two state clusters and MirrorMaker 2)"
	@echo "make protos    regenerate the protobuf/gRPC stubs after editing protos/"
	@echo "make bench     run the benchmarks under bench/"

setup:
	@tools/bootstrap.sh

install: setup
	uv run mrc-dev install

up: install
	uv run mrc-dev up

down:
	uv run mrc-dev down

status:
	uv run mrc-dev status

logs:
	uv run mrc-dev logs $(COMPONENT)

lint: setup
	uv run ruff check .
	uv run ruff format --check .

typecheck: setup
	uv run mypy libs/kernel/src libs/plumbing/src libs/geography/src libs/contracts/src devstack/src services/registry/src \
		services/entitlements/src services/grievance/src services/employer/src services/access/src

contracts: setup
	tools/protos.sh all

protos: setup
	tools/protos.sh generate

unit: setup
	uv run pytest tests/unit tests/contracts tests/deploy $(PYTEST_ARGS)

integration: install
	uv run pytest tests/integration $(PYTEST_ARGS)

e2e: install
	uv run pytest tests/e2e $(PYTEST_ARGS)

# Two state clusters, the national Kafka and MirrorMaker 2 of their own (.devstack/federation/test, ports
# shifted by MRC_FEDERATION_TEST_PORT_OFFSET, default 500: every port below the ephemeral range); the
# MirrorMaker jars are fetched on first use.
FEDERATION_TEST_PATHS := tests/federation

federation: install
	uv run pytest $(FEDERATION_TEST_PATHS) $(PYTEST_ARGS)

# One pytest run so the test stack (Kafka, FerretDB) starts once. Integration tests run before the
# end-to-end suite starts the services, whose consumer groups would otherwise share their topics.
TEST_PATHS := tests/unit tests/contracts tests/deploy tests/integration tests/e2e

# The federation suite runs in a second pytest run, so the main test stack is down before its three
# Kafka brokers and MirrorMaker 2 start (2 cores).
test: lint typecheck contracts install
	uv run pytest $(TEST_PATHS) $(PYTEST_ARGS)
	uv run pytest $(FEDERATION_TEST_PATHS) $(PYTEST_ARGS)

bench: install
	uv run python -m bench.run_all

clean: down
	uv run mrc-dev federation down
	rm -rf .devstack/local .devstack/test .devstack/federation
