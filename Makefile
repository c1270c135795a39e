# nebari.platform: the two commands of the README, and the parts they are made of.
#   make sandbox   bring the local test bed up and run site.yml against inventories/sandbox
#   make test      every quality gate: lint, sanity, unit tests, integration tests on the test bed
# Everything installs itself on first use and is cached under ~/.cache/nebari-platform.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV := .venv
BIN := $(VENV)/bin
PHASE := scripts/phase
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help venv testbed-build testbed-up testbed-down sandbox test lint sanity unit integration build lock

help:
	@sed -n '2,5p' Makefile | sed 's/^# //'

venv:
	@scripts/venv >/dev/null

testbed-build: venv
	@$(PHASE) "test bed build" tests/testbed/testbed build

testbed-up: venv
	@$(PHASE) "test bed up" tests/testbed/testbed up

testbed-down:
	@tests/testbed/testbed down

sandbox: testbed-up
	@$(PHASE) "site.yml on the sandbox" $(BIN)/ansible-playbook site.yml -i inventories/sandbox

test: venv
	@$(PHASE) "lint" $(MAKE) --no-print-directory lint
	@$(PHASE) "sanity" $(MAKE) --no-print-directory sanity
	@$(PHASE) "unit" $(MAKE) --no-print-directory unit
	@$(PHASE) "test bed build" tests/testbed/testbed build
	@$(PHASE) "test hosts build" tests/testhosts/testhosts build
	@$(PHASE) "integration" $(MAKE) --no-print-directory integration

lint: venv
	$(BIN)/ansible-lint
	$(BIN)/antsibull-changelog lint

sanity: venv
	scripts/sanity

unit: venv
	$(BIN)/pytest -q --durations=25 tests/unit

integration: venv
	$(BIN)/pytest -q --durations=25 tests/integration

build: venv
	$(BIN)/ansible-galaxy collection build --force --output-path .testbed/dist .

lock:
	scripts/lock
