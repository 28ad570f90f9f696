# Cairn: `make run` starts a one-machine cluster, `make test` runs every test.
GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/cairn-dc/cairn/cli/version.Version=$(VERSION)
# Packages with goroutines and shared state run under the race detector.
RACE_PKGS := ./kernel/... ./frameworks/... ./repository/... ./images/... ./modules/... ./tui/...
PKGS      := ./packaging/... ./cli/... ./cmd/...
ARGS    ?=

# The built-in packages seeded into the embedded registry by `cairn up`:
# each is its definition (repository/builtin/NAME) plus its binaries per
# platform, assembled under bin/packages/NAME.
PLATFORMS := linux/amd64 linux/arm64
PKG_OUT   := $(BIN)/packages

.PHONY: all build cairn packages modules run test bench fuzz lint clean

all: build

build: cairn packages modules

cairn:
	@mkdir -p $(BIN)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/cairn ./cmd/cairn

# Reproducible builds (-trimpath, no build id) keep the packages' digests
# stable from one build to the next. The services and cron packages carry the
# cairn binary itself (`cairn framework run services|cron`), for this
# machine's platform, and so does the echo module package (a module runs on
# the master's machine): set SERVICES_PLATFORMS="linux/amd64 linux/arm64" to
# cross-build both.
HOST_PLATFORM      := $(shell $(GO) env GOOS)/$(shell $(GO) env GOARCH)
SERVICES_PLATFORMS ?= $(HOST_PLATFORM)
packages: cairn
	@rm -rf $(PKG_OUT)/hello && mkdir -p $(PKG_OUT)/hello
	cp repository/builtin/hello/package.json repository/builtin/hello/options.schema.json repository/builtin/hello/app.json.tmpl $(PKG_OUT)/hello/
	@for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; \
	  echo "CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -o $(PKG_OUT)/hello/bin/$$os-$$arch/hello ./repository/builtin/hello/server"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -buildvcs=false -ldflags "-s -w -buildid=" \
	    -o $(PKG_OUT)/hello/bin/$$os-$$arch/hello ./repository/builtin/hello/server || exit 1; \
	done
	@rm -rf $(PKG_OUT)/echo && mkdir -p $(PKG_OUT)/echo
	cp repository/builtin/echo/package.json repository/builtin/echo/options.schema.json $(PKG_OUT)/echo/
	@for p in $(SERVICES_PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; \
	  echo "CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -o $(PKG_OUT)/echo/bin/$$os-$$arch/echo ./modules/examples/echo"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -buildvcs=false -ldflags "-s -w -buildid=" \
	    -o $(PKG_OUT)/echo/bin/$$os-$$arch/echo ./modules/examples/echo || exit 1; \
	done
	@for pkg in services cron; do \
	  rm -rf $(PKG_OUT)/$$pkg && mkdir -p $(PKG_OUT)/$$pkg && \
	  cp repository/builtin/$$pkg/package.json repository/builtin/$$pkg/options.schema.json repository/builtin/$$pkg/app.json.tmpl $(PKG_OUT)/$$pkg/ || exit 1; \
	  for p in $(SERVICES_PLATFORMS); do \
	    os=$${p%/*}; arch=$${p#*/}; mkdir -p $(PKG_OUT)/$$pkg/bin/$$os-$$arch; \
	    if [ "$$p" = "$(HOST_PLATFORM)" ]; then cp $(BIN)/cairn $(PKG_OUT)/$$pkg/bin/$$os-$$arch/cairn || exit 1; \
	    else echo "GOOS=$$os GOARCH=$$arch $(GO) build -o $(PKG_OUT)/$$pkg/bin/$$os-$$arch/cairn ./cmd/cairn"; \
	      CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "$(LDFLAGS)" \
	        -o $(PKG_OUT)/$$pkg/bin/$$os-$$arch/cairn ./cmd/cairn || exit 1; fi; \
	  done; \
	done

# Module binaries (go-plugin plugins the module host runs) and the checksums
# cairn up checks them against before starting them.
modules:
	@mkdir -p $(BIN)/modules
	$(GO) build -trimpath -o $(BIN)/modules/cairn-dns ./modules/dns/cmd/cairn-dns
	$(GO) build -trimpath -o $(BIN)/modules/echo ./modules/examples/echo
	cd $(BIN)/modules && sha256sum cairn-dns echo > SHA256SUMS

run: build
	./$(BIN)/cairn up $(ARGS)

test: lint
	$(GO) test -race -count=1 $(RACE_PKGS)
	$(GO) test -count=1 $(PKGS)

# Benchmarks with figures named by the issues (see each package's README).
bench:
	$(GO) test -run '^$$' -bench 'BenchmarkAllocate/agents=(1000|10000|50000)/' -benchtime 3x ./kernel/allocator/
	$(GO) test -run '^$$' -bench 'BenchmarkLaunchThroughput|BenchmarkRecovery' -benchtime 1x -timeout 30m ./kernel/master/
	$(GO) test -run '^$$' -bench 'BenchmarkLaunch1000' -benchtime 1x -timeout 30m ./kernel/agent/
	@echo "== the same with the agent's work dir on tmpfs (leaves this disk's inode cost out)"
	CAIRN_BENCH_DIR=/dev/shm $(GO) test -run '^$$' -bench 'BenchmarkLaunch1000' -benchtime 1x -timeout 30m ./kernel/agent/
	$(GO) test -run '^$$' -bench 'BenchmarkDeploy1000' -benchtime 1x -timeout 30m ./frameworks/services/
	$(GO) test -run '^$$' -bench 'BenchmarkGetApps' -benchtime 20x -timeout 30m ./frameworks/services/
	$(GO) test -run '^$$' -bench 'BenchmarkPushPull20MiB' -benchtime 5x ./repository/registry/
	$(GO) test -run '^$$' -bench 'BenchmarkFetch' -benchtime 5x ./images/
	$(GO) test -run '^$$' -bench 'BenchmarkPackageInstallHello' -benchtime 5x -timeout 30m ./cmd/cairn/
	$(GO) test -run '^$$' -bench 'BenchmarkSchedule10000' -benchtime 1x -timeout 30m ./frameworks/cron/
	$(GO) test -run '^$$' -bench 'BenchmarkNext' ./frameworks/cron/schedule/
	$(GO) test -run '^$$' -bench 'BenchmarkQPS' -timeout 30m ./modules/dns/server/

# Short runs of every fuzz target (seed corpora live in each testdata/fuzz).
FUZZTIME ?= 20s
fuzz:
	@for pkg in ./kernel/resources ./kernel/protocol ./kernel/containerizer/fetcher ./frameworks/services/marathon ./frameworks/services/constraints \
	           ./packaging ./repository ./repository/remote ./frameworks/cron ./frameworks/cron/schedule ./modules/dns/records ./modules/dns/plugin/cairn \
	           ./cli/config/configfile ./modules/host; do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s $$pkg || exit 1; \
	  done; \
	done

lint:
	@out=$$(gofmt -l .); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf $(BIN)
