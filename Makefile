# Holdfast: `make run` starts one node with no configuration; `make test` runs everything CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NPM_STAMP := node_modules/.installed

# Every recipe runs on a supported Node line (22.12+ or 24+): the machine's own node when it is
# one, otherwise the pinned Node 24 that scripts/node-runtime.sh installs into .tools/ on first
# use. Its bin dir goes first on PATH, so node, npm and npx in every recipe use it.
NODE_FREE_GOALS := help clean clean-tools
ifneq ($(filter-out $(NODE_FREE_GOALS),$(or $(MAKECMDGOALS),$(.DEFAULT_GOAL))),)
NODE_BIN := $(shell scripts/node-runtime.sh bin)
ifneq ($(.SHELLSTATUS),0)
$(error holdfast: no supported Node.js to run with (see the line above))
endif
ifneq ($(NODE_BIN),)
export PATH := $(NODE_BIN):$(PATH)
endif
endif

.PHONY: help install system-deps build run demo demo-down lint typecheck test test-unit test-integration test-containers reliability mutation bench bench-store bench-count bench-flood bench-server clean clean-tools

help:
	@echo "make run          build and start one node on the in-process store (port 3000)"
	@echo "make test         install what the tests need, then lint, typecheck and every test"
	@echo "                  (on Node 24, then unit + integration again on Node 22)"
	@echo "make demo         6-node Redis Cluster, 3 nodes behind a proxy, Prometheus (no Docker)"
	@echo "make demo-down    stop exactly what make demo started"
	@echo "make test-containers  the Redis suites on Redis in containers (podman)"
	@echo "make reliability  the fault scenarios with longer load; rewrites the table in docs/reliability.md"
	@echo "make mutation     mutation testing of the security-critical modules (StrykerJS; FULL=1)"
	@echo "make bench        Holdfast beside @hapi/cookie, catbox-redis, connect-redis (QUICK=1: < 3 min)"
	@echo "make bench-store  store benchmark against a local Redis Cluster"
	@echo "make bench-count  live-count latency before/after per-shard counters (ADR 180)"
	@echo "make bench-flood  login latency under a registration flood"
	@echo "make bench-server holdfast start against the plugin in a bare Hapi server (BENCH_QUICK=1: < 2 min)"
	@echo "make clean-tools  remove the pinned Node binaries and helm in .tools/"

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: $(NPM_STAMP)

system-deps:
	@scripts/install-system-deps.sh
	@scripts/install-helm.sh
	@scripts/install-schemathesis.sh

build: install
	npm run --silent build

run: build
	@echo "== holdfast on Node $$(node -v); the addresses to open are printed once it is ready (Ctrl-C stops it)"
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

# The whole suite on the Node chosen above, then the unit and integration tiers on the other
# supported line (pinned 22, or pinned 24 when the machine's node is 22). Tests that run nodes
# keep their output under test-artifacts/logs; after both runs, every line is scanned for
# passwords, cookies and tokens (scripts/scan-logs.ts).
test: install system-deps lint typecheck
	rm -rf test-artifacts/logs
	@echo "== jest on Node $$(node -v): whole suite"
	npx jest --ci
	@other="$$(scripts/node-runtime.sh other)" && \
	  echo "== jest on Node $$("$$other/node" -v): unit + integration" && \
	  echo "PATH=$${other#$(CURDIR)/}:\$$PATH npx jest --ci test/unit test/integration" && \
	  PATH="$$other:$$PATH" npx jest --ci test/unit test/integration
	@echo "== jest on Node $$(node -v): Redis suites on the containers provider (podman)"
	$(CONTAINERS_JEST)
	node -r ts-node/register/transpile-only scripts/scan-logs.ts test-artifacts/logs --min-files 1
	@$(MAKE) --no-print-directory mutation

test-unit: install
	@echo "== jest on Node $$(node -v): unit"
	npx jest --ci test/unit

test-integration: install system-deps
	@echo "== jest on Node $$(node -v): integration"
	npx jest --ci test/integration

# The harness and Redis engine suites again with each Redis in a container (testcontainers via
# podman's Docker API, image built from Debian's redis-server; docs/testing.md, ADR 105).
CONTAINERS_JEST := scripts/containers/podman.sh run npx jest --ci -c jest.containers.config.js
test-containers: install system-deps
	$(CONTAINERS_JEST)

# Mutation testing (docs/testing.md): report under test-artifacts/mutation/, fails below a
# mutation score of 85. Incremental against the record in test/mutation/: only mutants whose code
# or covering tests changed are re-tested; FULL=1 re-tests every mutant.
mutation: install
	@echo "== stryker on Node $$(node -v)"
	npx stryker run $(if $(FULL),--force)

# Side by side with the peers on one 3+3 cluster: bench/results/latest.json, the table and chart in
# docs/performance.md (QUICK=1: 2 short rounds).
bench: build system-deps
	@echo "== benchmark on Node $$(node -v)"
	$(if $(QUICK),BENCH_QUICK=1 )node -r ts-node/register/transpile-only bench/side-by-side.ts

bench-store: install system-deps
	@echo "== benchmark on Node $$(node -v)"
	node -r ts-node/register/transpile-only bench/store.ts

# Live count before/after ADR 180 on a 3+3 cluster (BENCH_COUNT_SESSIONS, default 200000).
bench-count: install system-deps
	@echo "== benchmark on Node $$(node -v)"
	node -r ts-node/register/transpile-only bench/count.ts

bench-flood: install
	node -r ts-node/register/transpile-only bench/login-under-flood.ts

# Ratio per round in bench/results/server-overhead.json (docs/performance.md).
bench-server: build system-deps
	@echo "== benchmark on Node $$(node -v)"
	node -r ts-node/register/transpile-only bench/server-overhead.ts

clean:
	rm -rf dist coverage test-artifacts .tmp .demo

# The pinned Node binaries and helm (reinstalled on the next make that needs one).
clean-tools:
	rm -rf .tools

# The fault suite of test/e2e/faults (in `make test` with short settings) with longer load, three
# nodes, a longer freeze and more slots moved; every scenario writes its record under
# test-artifacts/faults/, and the table in docs/reliability.md is rewritten from them even when a
# scenario fails (the failure is then the make's exit status).
reliability: install system-deps
	rm -rf test-artifacts/faults
	FAULT_SECONDS=$${FAULT_SECONDS:-20} FAULT_NODES=$${FAULT_NODES:-3} FAULT_FROZEN_SECONDS=$${FAULT_FROZEN_SECONDS:-8} \
	  FAULT_RESHARD_SLOTS=$${FAULT_RESHARD_SLOTS:-1000} npx jest --ci test/e2e/faults; status=$$?; \
	  node -r ts-node/register/transpile-only scripts/fault-table.ts docs/reliability.md && exit $$status
