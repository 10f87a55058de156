# Warren: `make run` starts the broker, `make test` runs every test (lint,
# unit, race, integration, fuzz seeds, the client-compatibility suite, and
# the external peers check when ../shared/peers is there).
#
# make run AMQP_PORT=5673 HTTP_PORT=15673 DATA=./data2   # beside a RabbitMQ
GO      ?= go
BIND      ?= 127.0.0.1
AMQP_PORT ?= 5672
HTTP_PORT ?= 15672
DATA      ?= ./data
BIN     := bin/warren
PKGS    := ./...
# Packages with concurrency run under the race detector.
RACE    := ./broker/... ./netio/... ./router/... ./segment/... ./index/...
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build run test unit lint compat peers stress bench soak fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/warren
	$(GO) build -o bin/warrenctl ./cmd/warrenctl

run: build
	@echo "warren: AMQP on $(BIND):$(AMQP_PORT), HTTP on $(HTTP_PORT), data in $(DATA)"
	@./$(BIN) -bind $(BIND) -amqp-port $(AMQP_PORT) -http-port $(HTTP_PORT) -data-dir $(DATA) || { \
		rc=$$?; echo "make run: warren exited with status $$rc. If a port is taken (RabbitMQ listens on 5672 and 15672)," \
		"pick others: make run AMQP_PORT=5673 HTTP_PORT=15673 DATA=./data2"; exit $$rc; }

test: lint unit compat peers

lint:
	@! git grep -n -E '^(<<<<<<<|>>>>>>>)( |$$)' -- . ':!Makefile' || (echo 'merge conflict markers committed'; exit 1)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) mod tidy -diff
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)

unit:
	$(GO) test -count=1 -timeout 600s $(PKGS)
	$(GO) test -count=1 -race -timeout 600s $(RACE)

# The official Go client's own test suite against a Warren on a spare port,
# then its connection-recovery tests in a network namespace (they need
# the management API on localhost:15672).
compat: build
	bash .ci/compat/amqp091go.sh
	bash .ci/compat/recovery.sh

# The external peers check; skipped with a note when ../shared/peers is absent.
peers: build
	bash .ci/peers.sh

# make test N times under CPU hogs and connection churn (STRESS_RUNS=5).
stress: build
	bash .ci/stress.sh

bench: build
	bash bench/run.sh

soak: build
	WARREN_SOAK=1 $(GO) test -count=1 -timeout 3600s -run Soak ./cmd/warren/

fuzz:
	$(GO) test ./frame -run XXX -fuzz FuzzParse -fuzztime 60s
	$(GO) test ./frame -run XXX -fuzz FuzzDecodeTable -fuzztime 60s
	$(GO) test ./frame -run XXX -fuzz FuzzProperties -fuzztime 60s
	$(GO) test ./netio -run XXX -fuzz FuzzFeed -fuzztime 90s
	$(GO) test ./cmd/warren/config -run XXX -fuzz FuzzRead -fuzztime 30s

clean:
	rm -rf bin
