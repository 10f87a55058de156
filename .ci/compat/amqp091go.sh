#!/usr/bin/env bash
# The official Go client's own test suite against a Warren started here:
# github.com/rabbitmq/amqp091-go (the version in go.mod) from the Go module
# cache, run with -tags integration and AMQP_URL, the variable its
# integration tests read.
#
# - Tests listed in amqp091go.expected must fail (they need extensions
#   Warren does not have yet); any other failure fails the check.
# - The client's unit tests against its in-process fake server (files
#   without the integration tag) use millisecond timers and can flake on a
#   loaded machine; nothing in them talks to Warren. Those alone get one
#   retry. Integration tests get none.
# - TestConnectionRecovery* drop their connection through a management
#   API they hard-code as localhost:15672: recovery.sh runs them, in a
#   network namespace where Warren owns that port.
# - TestRabbitMQ* and TestIntegrationRecoverNotImplemented test nothing
#   against another broker: they check that the server's product is
#   "RabbitMQ" (TestRabbitMQ* through integrationRabbitMQ) and leak the
#   connection they opened when it is not. Once every other test passes,
#   the suite's goleak check fails the run on those leaked connections, so
#   they are skipped too.
#
# COMPAT_LOGS=dir keeps the go test output there.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
here=$root/.ci/compat
mod=github.com/rabbitmq/amqp091-go
ver=$(go list -m -f '{{.Version}}' "$mod") || exit 1

work=$(mktemp -d "${TMPDIR:-/tmp}/warren-amqp091go.XXXXXX")
logs=${COMPAT_LOGS:-$work}
mkdir -p "$logs"
export WARREN_WORK=$work/warren WARREN_BIN=$root/bin/warren
ctl=$root/.ci/warren-ctl.sh
cleanup() { bash "$ctl" stop; rm -rf "$work"; }
trap cleanup EXIT

src=$(go mod download -json "$mod@$ver" | sed -nE 's/^\t"Dir": "(.*)",$/\1/p')
[ -d "$src" ] || { echo "amqp091go: $mod@$ver not in the module cache"; exit 1; }
cp -r "$src" "$work/client" && chmod -R u+w "$work/client"
cd "$work/client" || exit 1

# Test functions defined in files built only with -tags integration.
integration=$(grep -l '^//go:build integration' ./*_test.go | xargs grep -hoE '^func (Test[A-Za-z0-9_]+)' | sed 's/^func //' | sort -u)
expected=$(grep -vE '^(#|$)' "$here/amqp091go.expected" | awk '{print $1}' | sort -u)

bash "$ctl" start || exit 1
url=amqp://guest:guest@127.0.0.1:$(bash "$ctl" port)/

# run_tests OUT [go test args...]: the suite's verbose output goes to OUT.
run_tests() {
	local out=$1
	shift
	AMQP_URL=$url timeout 600 go test -tags integration -count=1 -timeout 300s -v "$@" >"$out" 2>&1
}
# failed OUT: the top-level names of the failed tests.
failed() { grep -E '^\s*--- FAIL: ' "$1" | sed -E 's/^\s*--- FAIL: ([^ /]+).*/\1/' | sort -u; }

start=$(date +%s)
run_tests "$logs/amqp091go.out" -skip '^(TestConnectionRecovery|TestRabbitMQ|TestIntegrationRecoverNotImplemented$)' ./...
rc=$?
fails=$(failed "$logs/amqp091go.out")
if [ $rc != 0 ] && [ -z "$fails" ]; then
	echo "amqp091go: go test failed without a failed test (build error, panic or timeout):"
	tail -40 "$logs/amqp091go.out"
	exit 1
fi

bad=0
unit_fails=()
for f in $fails; do
	if grep -qx "$f" <<<"$expected"; then
		echo "EXPECTED-FAIL $f ($(grep -E "^$f\s" "$here/amqp091go.expected" | sed -E 's/^[^ ]+ +//'))"
	elif grep -qx "$f" <<<"$integration"; then
		echo "FAIL $f"
		grep -E -A15 "^\s*--- FAIL: $f\b" "$logs/amqp091go.out" | head -20 | sed 's/^/    /'
		bad=1
	else
		unit_fails+=("$f")
	fi
done
for e in $expected; do
	if ! grep -qx "$e" <<<"$fails"; then
		echo "FAIL $e is listed in .ci/compat/amqp091go.expected but did not fail: take it off the list"
		bad=1
	fi
done
if [ ${#unit_fails[@]} -gt 0 ]; then
	re=$(IFS='|'; echo "${unit_fails[*]}")
	echo "amqp091go: the client's fake-server unit tests ${unit_fails[*]} failed; running them once more"
	run_tests "$logs/amqp091go-retry.out" -run "^($re)\$" .
	for f in $(failed "$logs/amqp091go-retry.out"); do
		echo "FAIL $f (client unit test, failed twice)"
		grep -E -A15 "^\s*--- FAIL: $f\b" "$logs/amqp091go-retry.out" | head -20 | sed 's/^/    /'
		bad=1
	done
fi

passed=$(grep -cE '^\s*--- PASS: ' "$logs/amqp091go.out")
skipped=$(grep -cE '^\s*--- SKIP: ' "$logs/amqp091go.out")
echo "amqp091go $ver: $passed passed, $(wc -w <<<"$fails") failed ($(wc -w <<<"$expected") expected), $skipped skipped, in $(($(date +%s) - start)) s"
if [ $bad != 0 ]; then
	echo "--- warren log (tail)"
	tail -30 "$WARREN_WORK/warren.log"
	exit 1
fi
