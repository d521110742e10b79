# Tributary. `make demo` and `make test` are the two commands the README
# opens with; both start and stop everything they need themselves.

GO          ?= go
BIN         := bin
STATICCHECK := $(BIN)/tools/staticcheck
STATICCHECK_VERSION := v0.8.2
# The whole suite, unit and integration, stays well under 15 minutes on 2 cores.
TEST_TIMEOUT ?= 20m

.PHONY: all build test test-unit test-integration lint demo bench fuzz clean mariadb tools

all: build

build:
	$(GO) build -o $(BIN)/tributary ./cmd/tributary

## test: every test, unit and integration; integration tests start private
## MariaDB and PostgreSQL instances (scripts/mariadb-sandbox.sh,
## scripts/postgres-sandbox.sh, installing the servers with apt if they are
## missing) and real nats-server processes themselves.
test: mariadb tools
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

test-unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /integration)

test-integration: mariadb tools
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) -v ./integration

# The other programs the tests drive, installed with apt-get if missing:
# sysbench, and the PostgreSQL server binaries (never the machine's service).
tools:
	@command -v sysbench >/dev/null 2>&1 || scripts/apt-install.sh sysbench
	@scripts/postgres-sandbox.sh install

# Installs the MariaDB server binaries if the machine has none (never starts
# the machine's own service).
mariadb:
	@scripts/mariadb-sandbox.sh install

lint: $(STATICCHECK)
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	scripts/check-imports.sh

$(STATICCHECK):
	GOBIN=$(abspath $(BIN)/tools) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

## demo: a private MariaDB sandbox, tributary on its embedded NATS server,
## a small shop workload, the events printed with tributary tail, and a
## SQLite read model kept by tributary project and rebuilt as of a moment.
demo: build mariadb
	scripts/demo.sh

## bench: the throughput benchmark of docs/BENCHMARKS.md (not part of test).
bench: build mariadb
	scripts/bench.sh

fuzz:
	$(GO) test . -run '^$$' -fuzz FuzzEscapeKey -fuzztime 30s
	$(GO) test ./binlog -run '^$$' -fuzz FuzzDecodeRows -fuzztime 60s

clean:
	rm -rf $(BIN) .demo .bench
