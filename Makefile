# Warren: `make run` starts the broker with its defaults, `make test` runs
# every test (unit, race, integration, fuzz seeds, the peers check).
GO      ?= go
BIN     := bin/warren
PKGS    := ./...
# Packages with concurrency run under the race detector.
RACE    := ./broker/... ./netio/... ./router/... ./segment/... ./index/...
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build run test unit lint peers bench soak fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/warren

run: build
	./$(BIN) -bind 127.0.0.1 -amqp-port 5672 -http-port 15672 -data-dir ./data

test: lint unit peers

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) mod tidy -diff
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)

unit:
	$(GO) test -count=1 -timeout 600s $(PKGS)
	$(GO) test -count=1 -race -timeout 600s $(RACE)

peers: build
	bash .ci/peers.sh

bench: build
	bash bench/run.sh

soak: build
	WARREN_SOAK=1 $(GO) test -count=1 -timeout 3600s -run Soak ./cmd/warren/

fuzz:
	$(GO) test ./frame -run XXX -fuzz FuzzParse -fuzztime 60s
	$(GO) test ./frame -run XXX -fuzz FuzzDecodeTable -fuzztime 60s
	$(GO) test ./frame -run XXX -fuzz FuzzProperties -fuzztime 60s
	$(GO) test ./netio -run XXX -fuzz FuzzFeed -fuzztime 90s

clean:
	rm -rf bin
