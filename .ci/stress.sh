#!/usr/bin/env bash
# Runs `make test` STRESS_RUNS times in a row (default 5) on a machine kept
# busy on purpose: two CPU hogs (stress-ng --cpu 2) and, during each run, up
# to CHURN_MAX AMQP connections (default 3000, CHURN_RATE a second, default
# 25) opened and closed on loopback against a Warren started here on a port
# the kernel picks. Prints and appends to STRESS_LOG (default
# stress-results.txt) one line per run: time, result, connections made.
# The output of a failed run is kept in STRESS_KEEP (default
# stress-failures/). Exit status 1 if any run failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
runs=${STRESS_RUNS:-5}
churn_max=${CHURN_MAX:-3000}
churn_rate=${CHURN_RATE:-25}
log=${STRESS_LOG:-$root/stress-results.txt}
keep=${STRESS_KEEP:-$root/stress-failures}
command -v stress-ng >/dev/null || { echo "stress: needs stress-ng (apt-get install stress-ng)"; exit 1; }

make build >/dev/null || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/warren-stress.XXXXXX")
export WARREN_WORK=$work/warren WARREN_BIN=$root/bin/warren
ctl=$root/.ci/warren-ctl.sh
hog=
cleanup() {
	[ -n "$hog" ] && kill "$hog" 2>/dev/null && wait "$hog" 2>/dev/null
	bash "$ctl" stop
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$ctl" start || exit 1
url="amqp://guest:guest@127.0.0.1:$(bash "$ctl" port)/%2F"
stress-ng --cpu 2 --timeout "$((runs * 900))s" --quiet &
hog=$!

echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD): $runs runs of make test, stress-ng --cpu 2, up to $churn_max connections a run at $churn_rate/s" | tee -a "$log"
failures=0
for i in $(seq 1 "$runs"); do
	out=$work/run-$i.out
	/usr/bin/python3 .ci/churn.py "$url" "$churn_max" 900 "$churn_rate" >"$work/churn-$i.out" 2>&1 &
	churn=$!
	start=$(date +%s)
	make test >"$out" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	kill "$churn" 2>/dev/null
	wait "$churn" 2>/dev/null
	made=$(grep -oE '^churn: [0-9]+ connections' "$work/churn-$i.out" | grep -oE '[0-9]+')
	if [ $rc = 0 ]; then
		result=pass
	else
		result=FAIL
		failures=$((failures + 1))
		mkdir -p "$keep"
		cp "$out" "$keep/run-$(date -u +%Y%m%d-%H%M%S)-$i.out"
		grep -E '^(--- FAIL|FAIL|panic:)' "$out" | head -10 | sed 's/^/    /'
	fi
	echo "run $i: $result in ${took}s, churn ${made:-?} connections" | tee -a "$log"
done
echo "stress: $((runs - failures)) of $runs runs passed" | tee -a "$log"
[ $failures = 0 ]
