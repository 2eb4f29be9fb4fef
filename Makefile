# Holdfast: `make run` starts one node with no configuration; `make test` runs everything CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NPM_STAMP := node_modules/.installed

.PHONY: help install system-deps build run demo demo-down lint typecheck test test-unit test-integration bench-store bench-flood clean

help:
	@echo "make run          build and start one node on the in-process store (port 3000)"
	@echo "make test         install what the tests need, then lint, typecheck and every test"
	@echo "make demo         6-node Redis Cluster, 3 nodes behind a proxy, Prometheus (no Docker)"
	@echo "make demo-down    stop exactly what make demo started"
	@echo "make bench-store  store benchmark against a local Redis Cluster"
	@echo "make bench-flood  login latency under a registration flood"

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: $(NPM_STAMP)

system-deps:
	@scripts/install-system-deps.sh
	@scripts/install-helm.sh

build: install
	npm run --silent build

run: build
	node dist/cli/main.js start

# The deploy/compose.yaml topology from local processes; PIDs in .demo/pids (scripts/demo/demo.ts).
demo: build system-deps
	node -r ts-node/register/transpile-only scripts/demo/demo.ts up

demo-down: install
	node -r ts-node/register/transpile-only scripts/demo/demo.ts down

lint: install
	npx eslint .
	npx prettier --check .
	npx madge --circular --extensions ts --ts-config tsconfig.json src

typecheck: install
	npx tsc --noEmit

# Tests that run nodes keep their output under test-artifacts/logs; after jest, every line is
# scanned for passwords, cookies and tokens (scripts/scan-logs.ts).
test: install system-deps lint typecheck
	rm -rf test-artifacts/logs
	npx jest --ci
	node -r ts-node/register/transpile-only scripts/scan-logs.ts test-artifacts/logs --min-files 1

test-unit: install
	npx jest --ci test/unit

test-integration: install system-deps
	npx jest --ci test/integration

bench-store: install system-deps
	node -r ts-node/register/transpile-only bench/store.ts

bench-flood: install
	node -r ts-node/register/transpile-only bench/login-under-flood.ts

clean:
	rm -rf dist coverage test-artifacts .tmp .demo
