# tabsync: build, test and demo.
#
#   make test    vet, native tests (-race), wasm tests in Chromium, build,
#                npm tests (node --test), e2e (Chromium), engines
#   make engines the cross-engine suite (e2e/engines, node --test): the
#                packed package's behaviours in ENGINES=chromium,firefox,webkit,
#                tables across two devices against a tabsync-server it builds
#                and runs on 127.0.0.1; ENGINES_REPORT=file.json also writes
#                what it measured
#   make build   npm/dist/: tabsync.wasm and tabsync-nopersist.wasm (+ .gz,
#                .br), wasm_exec.js, npm build; the framework demos
#                (examples/frameworks/dist, Vite)
#   make size    check the size budgets: tabsync.wasm gzipped at most 1.184
#                times tools/sizefloor (a program using only go-indexeddb),
#                tabsync-nopersist.wasm at most 1.235 times
#                tools/sizefloor/jsonly (a program using only syscall/js)
#   make demo    build, then serve examples/ at / and npm/dist/ at /tabsync/,
#                and run tabsync-server on 127.0.0.1:8081 for the tables demo
#                (storage in DEMO_DATA=.demo-data, printed at start)
#   make bench   build, then measure tabsync next to a plain BroadcastChannel,
#                broadcast-channel and zustand-sync-tabs in headless Chromium
#                (under 10 minutes): docs/BENCHMARKS.md and docs/bench/;
#                then tables across devices next to a bare WebSocket hub
#                (e2e TestTablesBench): docs/bench/tables.json
#   make server  run tabsync-server (the table sync relay) on
#                ws://127.0.0.1:8081/sync with its data in .server-data/
#   make bench-server  tabsync-server next to a bare coder/websocket hub on
#                loopback: fan-out to 1,000 subscribers, acked writes,
#                10,000 idle connections, 2 relays on a 3-node NATS cluster
#                (1 minute quiet): docs/SERVER-BENCHMARKS.md's numbers
#                in docs/bench/server.{md,json,svg}
#   make fuzz    FUZZTIME=60s of every fuzz target (make test: a fixed count
#                of inputs each, about 5 s on a quiet 2-core machine)
#   make soak    8 tabs writing, crashing, freezing and reloading for
#                SOAK_DURATION=60s, then a report (make test: SOAK_DURATION_TEST=12s)
#   make tools   install Chromium, Firefox, WebKitGTK and the pinned Go tools (.bin/)
#   make clean   remove build outputs and .bin/
#
# Every target installs what it needs (Chromium, Firefox ESR, WebKitGTK and
# Xvfb from Debian, Go tools into .bin/), so a fresh clone on a machine with
# Go, Node.js and apt works.
#
# Variables: GO, FUZZTIME, FUZZTIME_TEST, SOAK_DURATION, SOAK_DURATION_TEST, PORT and DEMO_DATA (demo), BENCHFLAGS, CHROME (browser to use; found or
# installed by tools/ensure-chromium.sh when unset), ENGINES, ENGINES_REPORT,
# FIREFOX, WEBKIT_DRIVER, MINIBROWSER (see tools/ensure-browsers.sh).

GO       ?= go
FUZZTIME ?= 60s
FUZZTIME_TEST ?= counts
SOAK_DURATION ?= 60s
SOAK_DURATION_TEST ?= 12s
PORT     ?= 8080
DEMO_DATA ?= $(CURDIR)/.demo-data
ENGINES  ?= chromium,firefox,webkit
BIN      := $(CURDIR)/.bin
DIST     := npm/dist

# Recipes run in bash with -e and pipefail, so a failing command in a
# multi-line recipe or a pipe stops the target.
SHELL       := bash
.SHELLFLAGS := -euo pipefail -c

# The steps of `make test` must run in the order given, also under -j.
.NOTPARALLEL:

.PHONY: all test vet unit fuzz-short wasm-test npm-test e2e engines build size wasm npm demo bench fuzz soak tools clean

all: test

test: vet unit fuzz-short wasm-test build size npm-test e2e engines
	@echo "test: all passed"

vet:
	@echo "==> go vet (native and js/wasm)"
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./...

unit:
	@echo "==> go test -race (native)"
	$(GO) test -race -timeout 10m ./...

# A short run of every fuzz target, beyond their seed corpora (which unit runs).
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_TEST)

# The jsbridge tests use syscall/js and browser APIs, so they run in headless
# Chromium through wasmbrowsertest (tools/wasmtest.sh installs both), once as built
# into tabsync.wasm and once with the nopersist tag of tabsync-nopersist.wasm.
wasm-test:
	@if ! compgen -G 'jsbridge/*_test.go' >/dev/null; then \
		echo "==> wasm tests: skipped, jsbridge/ has no *_test.go files yet"; \
		exit 0; \
	fi; \
	echo "==> go test (js/wasm in Chromium) ./jsbridge/..."; \
	tools/wasmtest.sh -timeout 5m ./jsbridge/...; \
	echo "==> go test -tags nopersist (js/wasm in Chromium) ./jsbridge/..., as in tabsync-nopersist.wasm"; \
	tools/wasmtest.sh -tags nopersist -timeout 5m ./jsbridge/...; \
	echo "==> go test (js/wasm in Chromium) ./tablebridge against a real tabsync-server"; \
	TABSYNC_WASM_TEST=1 $(GO) test -count=1 -timeout 5m -run TestWasm ./tablebridge

# The npm package's own tests (Node's test runner), on the fresh build.
npm-test: build
	@if [ ! -f npm/package.json ] || ! grep -q '"test"[[:space:]]*:' npm/package.json; then \
		echo "==> npm tests: skipped, npm/package.json has no test script yet"; \
		exit 0; \
	fi; \
	echo "==> npm test in npm"; \
	cd npm && npm test --silent

e2e: build
	@echo "==> e2e tests (headless Chromium)"
	@# The timeout is a safety net for a hung browser, not the budget: at a
	@# load average of 30 on 2 cores, 10m cut the suite off mid-run.
	@CHROME=$$(tools/ensure-chromium.sh); export CHROME; \
	echo "    browser: $$CHROME"; \
	SOAK_DURATION=$(SOAK_DURATION_TEST) $(GO) test -tags e2e -timeout 20m ./e2e/...

# The cross-engine suite against the packed package (npm pack of npm/, so
# after build). It installs the engines (tools/ensure-browsers.sh,
# tools/ensure-chromium.sh) and its own node_modules (e2e/engines/package-lock.json),
# and builds cmd/tabsync-server with $(GO) for the tables behaviour.
engines: build
	@echo "==> cross-engine suite ($(ENGINES))"
	@tools/ensure-browsers.sh
	@CHROME=$$(tools/ensure-chromium.sh); export CHROME; \
	GO=$(GO) ENGINES=$(ENGINES) ENGINES_REPORT=$(if $(ENGINES_REPORT),$(abspath $(ENGINES_REPORT))) tools/npm-build.sh e2e/engines test

build: wasm npm

# The wasm module, the Go glue from the same toolchain, and precompressed
# copies for servers that serve them (see tools/devserver).
wasm:
	@if ! compgen -G 'wasm/*.go' >/dev/null; then \
		echo "==> build: skipped, ./wasm has no Go files yet"; \
		exit 0; \
	fi; \
	echo "==> build $(DIST)/tabsync.wasm and $(DIST)/tabsync-nopersist.wasm"; \
	mkdir -p $(DIST); \
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o $(DIST)/tabsync.wasm ./wasm; \
	GOOS=js GOARCH=wasm $(GO) build -tags nopersist -trimpath -ldflags='-s -w' -o $(DIST)/tabsync-nopersist.wasm ./wasm; \
	cp -f "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(DIST)/wasm_exec.js; \
	for w in tabsync tabsync-nopersist; do \
		tools/precompress.sh $(DIST)/$$w.wasm; \
		ls -l $(DIST)/$$w.wasm $(DIST)/$$w.wasm.gz $(DIST)/$$w.wasm.br | awk '{ printf "    %9d  %s\n", $$5, $$9 }'; \
	done; \
	echo "==> build $(DIST)/tabsync-tables.wasm (tables across devices, loaded by createTableSync)"; \
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o $(DIST)/tabsync-tables.wasm ./wasm/tables; \
	tools/precompress.sh $(DIST)/tabsync-tables.wasm; \
	ls -l $(DIST)/tabsync-tables.wasm $(DIST)/tabsync-tables.wasm.gz $(DIST)/tabsync-tables.wasm.br | awk '{ printf "    %9d  %s\n", $$5, $$9 }'

# The npm package, once npm/ exists, then the framework demos built on it
# (the e2e tests run them). npm ci runs only when node_modules is missing or
# older than package-lock.json (npm writes node_modules/.package-lock.json at
# the end of every install).
npm:
	@if [ ! -f npm/package.json ]; then \
		echo "==> npm: skipped, npm/package.json does not exist yet"; \
		exit 0; \
	fi; \
	tools/npm-build.sh npm
	tools/npm-build.sh examples/frameworks

# The size budget (README.md, Size); make test runs it after build.
size: build
	@echo "==> size budget"
	GO=$(GO) tools/sizecheck.sh $(DIST)/tabsync.wasm ./tools/sizefloor 118.4
	GO=$(GO) tools/sizecheck.sh $(DIST)/tabsync-nopersist.wasm ./tools/sizefloor/jsonly 123.5
	@# The tables' module (createTableSync) against the IndexedDB floor:
	@# 1,019,930 B, 1.2101 times, on 2026-12-02; the budget catches growth.
	if [ -f $(DIST)/tabsync-tables.wasm ]; then GO=$(GO) tools/sizecheck.sh $(DIST)/tabsync-tables.wasm ./tools/sizefloor 121.5; fi
	@# The adapters and the other JavaScript files an app may import beside
	@# the core, minified and gzipped, each within its budget.
	if [ -f $(DIST)/adapter.mjs ]; then node tools/jssize.mjs $(DIST); fi

demo: build
	@if [ -f examples/react/package.json ]; then \
		tools/npm-build.sh examples/react; \
	fi
	@mkdir -p $(BIN) "$(DEMO_DATA)"
	$(GO) build -o $(BIN)/tabsync-server ./cmd/tabsync-server
	@echo "==> tabsync-server on ws://127.0.0.1:8081/sync, tables stored in $(DEMO_DATA)"
	@echo "==> demo server (Ctrl-C stops both)"
	@$(BIN)/tabsync-server --data "$(DEMO_DATA)" & srv=$$!; \
	trap 'kill $$srv 2>/dev/null; wait $$srv 2>/dev/null' EXIT INT TERM; \
	PORT=$(PORT) $(GO) run ./tools/devserver -dir examples -mount /tabsync/=$(DIST)

# Not part of `make test`: it takes minutes and its numbers depend on the
# machine. The page bundles come from bench/package-lock.json. BENCHFLAGS
# passes flags to the program, such as -quick or -only 1,2.
bench: build
	tools/npm-build.sh bench
	@CHROME=$$(tools/ensure-chromium.sh); export CHROME; \
	echo "==> bench (browser: $$CHROME)"; \
	$(GO) run ./bench $(BENCHFLAGS)
	@echo "==> bench: tables across devices (docs/bench/tables.json)"
	@CHROME=$$(tools/ensure-chromium.sh); export CHROME; \
	TABSYNC_TABLES_BENCH=1 $(GO) test -tags e2e -count=1 -timeout 15m -run TestTablesBench -v ./e2e/ 2>&1 | grep -v -e dbus -e 'chromium: 9'

# The relay of tabsync tables (cmd/tabsync-server), embedded NATS JetStream
# keeping the tables in .server-data/. SERVERFLAGS passes more flags.
server:
	$(GO) run ./cmd/tabsync-server --data .server-data $(SERVERFLAGS)

# Not part of `make test`: minutes of load on loopback. The 10,000 idle
# connections need as many file descriptors in each process.
bench-server:
	@ulimit -n "$$(ulimit -Hn)"; \
	echo "==> bench-server (open files: $$(ulimit -n))"; \
	$(GO) run ./bench/server $(BENCHFLAGS)

# Every fuzz target, FUZZTIME each (make test runs them for FUZZTIME_TEST).
# New interesting inputs are kept in Go's cache; copy the ones worth keeping
# from $(go env GOCACHE)/fuzz into the package's testdata/fuzz/<Target>/.
#
# FUZZTIME=counts runs each target for the number of inputs after its second
# colon (about 5 s each here), which is what make test does: with a duration,
# Go 1.26's fuzz coordinator can fail a target with a bare "context deadline
# exceeded" when a busy machine stalls a worker at the deadline
# (go.dev/issue/75804, fixed in Go 1.27); a count has no deadline to race, so
# a slow CI machine only takes longer. A real finding still fails and writes
# its input to testdata/fuzz/.
FUZZ_TARGETS := ./protocol:FuzzDecode:100000 ./tableproto:FuzzDecode:75000 \
	./tableproto:FuzzEncodeMatchesReflect:40000 ./tableproto:FuzzDecodeOperationMatchesReflect:40000 \
	./conflict:FuzzResolve:70000 ./conflict:FuzzDeepMerge:65000 \
	./sync:FuzzEngine:15000 ./internal/decimal:FuzzParse:75000 \
	./tables:FuzzStep:20000 ./tablebridge:FuzzReadFrame:20000

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; count=$${rest##*:}; \
		budget=$(FUZZTIME); [ "$$budget" = counts ] && budget=$${count}x; \
		echo "==> fuzz $$name ($$pkg) for $$budget"; \
		out=$$($(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$$budget $$pkg 2>&1) || { echo "$$out"; exit 1; }; \
		echo "$$out" | tail -n 3; \
	done

# The soak test of e2e/soak_test.go for SOAK_DURATION (make test's e2e runs
# it for 12 s); it prints its report.
soak: build
	@CHROME=$$(tools/ensure-chromium.sh); export CHROME; \
	echo "==> soak for $(SOAK_DURATION) (browser: $$CHROME)"; \
	SOAK_DURATION=$(SOAK_DURATION) $(GO) test -tags e2e -run '^TestSoak$$' -v -count=1 -timeout 2h ./e2e/ 2>&1 | \
		grep -v -e 'dbus' -e '^\s*\[' -e '^=== RUN'

tools:
	@echo "==> tools"
	@echo "    chromium: $$(tools/ensure-chromium.sh)"
	@tools/ensure-browsers.sh
	@echo "    firefox, webkit: installed"
	@tools/ensure-gotools.sh "$(BIN)"
	@echo "    go tools: $(BIN)"

clean:
	rm -rf $(BIN) $(DIST)/tabsync.wasm $(DIST)/tabsync.wasm.gz $(DIST)/tabsync.wasm.br $(DIST)/wasm_exec.js
	rm -f $(DIST)/tabsync-nopersist.wasm $(DIST)/tabsync-nopersist.wasm.gz $(DIST)/tabsync-nopersist.wasm.br
	@if [ -f npm/package.json ]; then rm -rf $(DIST); fi
	rm -rf examples/react/dist examples/frameworks/dist bench/web/dist e2e/engines/node_modules
