#!/usr/bin/env bash
# The official Go client's 18 connection-recovery tests against Warren.
# They drop their own connection through a management API they hard-code
# as http://guest:guest@localhost:15672, and dial AMQP_URL. On a machine
# where a RabbitMQ (or anything) holds 5672/15672, Warren cannot take those
# ports, so the tests run inside a private network namespace
# (`unshare -rn`: an unprivileged user namespace with its own loopback),
# where Warren listens on 5672 and 15672 and nothing else does.
#
# The test binary is built outside the namespace (the namespace has no
# network for the module proxy). Every TestConnectionRecovery* must pass.
# Where user namespaces are not available the check is skipped with a note.
#
# COMPAT_LOGS=dir keeps the test and Warren output there.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

if [ "${1:-}" = inside ]; then
	# $2: work dir. Runs in the namespace.
	work=$2
	ip link set lo up || exit 1
	"$root/bin/warren" -bind 127.0.0.1 -amqp-port 5672 -http-port 15672 -data-dir "$work/data" >"$work/warren.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 600); do # 60 s on a busy machine
		grep -qs 'management listening' "$work/warren.log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q 'management listening' "$work/warren.log"; then
		echo "recovery: warren did not start in the namespace:"
		tail -20 "$work/warren.log"
		kill "$pid" 2>/dev/null
		exit 1
	fi
	cd "$work/client" || exit 1
	AMQP_URL=amqp://guest:guest@127.0.0.1:5672/ timeout 600 "$work/amqp091.test" \
		-test.run '^TestConnectionRecovery' -test.v -test.count=1 -test.timeout 540s >"$work/recovery.out" 2>&1
	rc=$?
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	exit $rc
fi

if ! unshare -rn true 2>/dev/null; then
	echo "recovery: SKIP (no unprivileged network namespace here: unshare -rn failed)"
	exit 0
fi
command -v ip >/dev/null || { echo "recovery: SKIP (no ip command to bring up the namespace's loopback)"; exit 0; }

mod=github.com/rabbitmq/amqp091-go
ver=$(go list -m -f '{{.Version}}' "$mod") || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/warren-recovery.XXXXXX")
logs=${COMPAT_LOGS:-$work}
mkdir -p "$logs"
trap 'rm -rf "$work"' EXIT
src=$(go mod download -json "$mod@$ver" | sed -nE 's/^\t"Dir": "(.*)",$/\1/p')
[ -d "$src" ] || { echo "recovery: $mod@$ver not in the module cache"; exit 1; }
cp -r "$src" "$work/client" && chmod -R u+w "$work/client"
(cd "$work/client" && go test -c -tags integration -o "$work/amqp091.test" .) || exit 1
want=$(grep -hoE '^func (TestConnectionRecovery[A-Za-z0-9_]*)' "$work/client"/*_test.go | sed 's/^func //' | sort -u)

start=$(date +%s)
unshare -rn bash "$root/.ci/compat/recovery.sh" inside "$work"
rc=$?
out=$work/recovery.out
[ "$logs" != "$work" ] && cp "$out" "$work/warren.log" "$logs/" 2>/dev/null
passed=$(grep -E '^--- PASS: TestConnectionRecovery' "$out" 2>/dev/null | sed -E 's/^--- PASS: ([^ ]+).*/\1/' | sort -u)
missing=$(comm -23 <(echo "$want") <(echo "$passed"))
echo "amqp091go $ver recovery: $(wc -w <<<"$passed") of $(wc -w <<<"$want") passed in $(($(date +%s) - start)) s"
if [ $rc != 0 ] || [ -n "$missing" ]; then
	for f in $missing; do
		echo "FAIL $f"
		grep -E -B2 -A20 "^=== RUN   $f\$" "$out" | grep -vE '^=== RUN' | head -25 | sed 's/^/    /'
	done
	[ -s "$out" ] || echo "    (no test output; exit status $rc)"
	echo "--- warren log (tail)"
	tail -30 "$work/warren.log"
	exit 1
fi
