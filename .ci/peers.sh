#!/usr/bin/env bash
# Runs ../shared/peers (pika tutorials + amqp091-go's own tests) against a
# Warren started here on spare ports, including the restart case.
set -u
cd "$(dirname "$0")/.."
root=$(pwd)
peers=${PEERS_DIR:-$root/../shared/peers}
[ -f "$peers/run.sh" ] || { echo "peers check not found at $peers"; exit 1; }
port=${PEERS_AMQP_PORT:-5682}
hport=${PEERS_HTTP_PORT:-15682}
WARREN_WORK=$(mktemp -d "${TMPDIR:-/tmp}/warren-peers.XXXXXX")
export WARREN_WORK WARREN_PORT=$port
export WARREN_CMD="$root/bin/warren -amqp-port $port -http-port $hport -data-dir $WARREN_WORK/data -log-level warn"
ctl=$root/.ci/warren-ctl.sh
"$ctl" start || exit 1
trap '"$ctl" stop; rm -rf "$WARREN_WORK"' EXIT
AMQP_URL=amqp://guest:guest@127.0.0.1:$port/ \
MGMT_URL=http://guest:guest@127.0.0.1:$hport \
RESTART_CMD="$ctl restart" \
PEERS_EXCLUDE=${PEERS_EXCLUDE-message_ttl,direct_reply} \
	bash "$peers/run.sh"
rc=$?
if [ $rc != 0 ]; then echo "--- warren log (tail)"; tail -50 "$WARREN_WORK/warren.log"; fi
exit $rc
