#!/usr/bin/env bash
# `make run`: the whole system on this machine. moto as the local AWS, resources from template.yaml, a demo
# store and key, the real function binaries under `cargo lambda watch`, and in front of them a local API
# gateway with template.yaml's routes. Ctrl-C stops everything this script started; so does any helper
# ending, after saying which one.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/supervise.sh

PORT="${PORT:-9000}"
WATCH_PORT="${WATCH_PORT:-9001}"
MOTO_PORT="${MOTO_PORT:-5000}"
SENDGRID_PORT="${SENDGRID_PORT:-5600}"
VENV="$(cd "${VENV:-.venv}" && pwd)"
STATE=.local
mkdir -p "$STATE"

stop() {
  trap - INT TERM EXIT
  stop_helpers
  echo "stopped."
}
trap stop INT TERM EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for_port() {
  for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "nothing listens on port $1 after 60 s; see $STATE/*.log" >&2; return 1
}
for p in "$PORT" "$WATCH_PORT" "$MOTO_PORT" "$SENDGRID_PORT"; do
  port_free "$p" || { echo "port $p is in use; choose others with PORT=… WATCH_PORT=… MOTO_PORT=… SENDGRID_PORT=…" >&2; exit 1; }
done

echo "building the functions (the first build takes a few minutes)…"
cargo build --quiet -p ingest -p bulk-ingest -p subscriptions -p dispatch -p scheduler -p jobs -p reads -p collector-admin --bins

echo "starting the local AWS (moto) on 127.0.0.1:$MOTO_PORT…"
start moto "$VENV/bin/python" scripts/moto_server.py -H 127.0.0.1 -p "$MOTO_PORT" >"$STATE/moto.log" 2>&1
wait_for_port "$MOTO_PORT"

export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
"$VENV/bin/python" scripts/provision.py --endpoint "$AWS_ENDPOINT_URL" --prefix local- \
  --env-file "$STATE/functions.env" >"$STATE/resources.json"
# Local mode: subscriptions may point at http and loopback receivers (moto queues, a local webhook), and
# the sweep's grace is short so a stalled event is visibly recovered within a minute or two.
# (The template's values of these are replaced, not repeated: an env file's first value of a name wins.)
# A laptop's stack spreads pending events over 16 shards, not the deployment's 4,096: the sweep reads
# every shard each minute.
sed -i -E '/^(LOCAL_MODE|SWEEP_GRACE_SECONDS|PENDING_SHARDS|SENDGRID_BASE_URL)=/d' "$STATE/functions.env"
cat >>"$STATE/functions.env" <<ENV
LOCAL_MODE=true
PENDING_SHARDS=16
SWEEP_GRACE_SECONDS=30
SENDGRID_BASE_URL=http://127.0.0.1:$SENDGRID_PORT
ENV

echo "starting a local SendGrid stand-in on 127.0.0.1:$SENDGRID_PORT (requests logged to $STATE/sendgrid.log)…"
: >"$STATE/sendgrid.log"
start sendgrid-stand-in "$VENV/bin/python" scripts/sendgrid_receiver.py --port "$SENDGRID_PORT" --log "$STATE/sendgrid.log"
TABLE_NAME=$(sed -n 's/^TABLE_NAME=//p' "$STATE/functions.env")
DISPATCH_QUEUE_URL=$(sed -n 's/^DISPATCH_QUEUE_URL=//p' "$STATE/functions.env")

# Through cargo, which knows where its target directory is (CARGO_TARGET_DIR or not); built above.
TABLE_NAME="$TABLE_NAME" cargo run --quiet -p collector-admin --bin storeadmin -- create-store "Demo store" \
  >"$STATE/demo-store.json"
read -r STORE_ID API_KEY < <("$VENV/bin/python" -c \
  'import json,sys; d=json.load(open(sys.argv[1])); print(d["storeId"], d["apiKey"])' "$STATE/demo-store.json")
# The demo store's jobs mail as it, through the stand-in (each store has its own SendGrid key and sender).
SECRETS_KEY_ID=$(sed -n 's/^SECRETS_KEY_ID=//p' "$STATE/functions.env" | head -n 1)
echo '{"apiKey": "SG.local-demo", "fromEmail": "demo@example.com", "fromName": "Demo store"}' |
  TABLE_NAME="$TABLE_NAME" SECRETS_KEY_ID="$SECRETS_KEY_ID" \
  cargo run --quiet -p collector-admin --bin storeadmin -- set-email-identity "$STORE_ID" >/dev/null
BASE_URL="http://127.0.0.1:$PORT"
WATCH_URL="http://127.0.0.1:$WATCH_PORT"
cat >"$STATE/stack.env" <<ENV
BASE_URL=$BASE_URL
WATCH_URL=$WATCH_URL
STORE_ID=$STORE_ID
API_KEY=$API_KEY
AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL
TABLE_NAME=$TABLE_NAME
DISPATCH_QUEUE_URL=$DISPATCH_QUEUE_URL
ENV

echo "starting the functions under cargo lambda watch on $WATCH_URL…"
start cargo-lambda-watch env PATH="$VENV/bin:$PATH" cargo lambda watch -A 127.0.0.1 -P "$WATCH_PORT" \
  --env-file "$STATE/functions.env" >"$STATE/watch.log" 2>&1
wait_for_port "$WATCH_PORT"

echo "starting the local API gateway (template.yaml's routes) on $BASE_URL…"
start local-gateway "$VENV/bin/python" scripts/local_gateway.py --port "$PORT" --invoke "$WATCH_URL" \
  >"$STATE/gateway.log" 2>&1
wait_for_port "$PORT"

echo "starting the local event source mapping (dispatch queue → dispatch) and scheduler ticks…"
start local-triggers "$VENV/bin/python" scripts/local_triggers.py --invoke "$WATCH_URL" \
  --queue-url "$DISPATCH_QUEUE_URL" --tick 60 >"$STATE/triggers.log" 2>&1

cat <<INFO

The event collector is running.
  base URL   $BASE_URL
  store id   $STORE_ID
  API key    $API_KEY   (shown once; also in $STATE/stack.env)
  local AWS  $AWS_ENDPOINT_URL   (table $TABLE_NAME)
  logs       $STATE/watch.log (functions), $STATE/gateway.log (requests), $STATE/triggers.log (dispatch,
             scheduler ticks),
             $STATE/sendgrid.log (the email notification jobs would send), $STATE/moto.log

Send an event:
  curl -i -X POST "$BASE_URL/stores/$STORE_ID/events" \\
    -H "Authorization: Bearer $API_KEY" -H "Content-Type: application/json" \\
    -d '{"eventName":"Page Viewed","customer":{"email":"stewart@example.com"}}'

Subscribe a queue to every custom event (the README also shows webhooks), send an event, read the queue:
  QUEUE_URL=\$(make -s queue NAME=my-subscriber)
  curl -s -X POST "$BASE_URL/api/v1/event-subscription" \\
    -H "Authorization: Bearer $API_KEY" -H "Content-Type: application/json" \\
    -d "{\"eventNames\":[\"*\"],\"destination\":{\"type\":\"SQS\",\"sqs\":{\"queueUrl\":\"\$QUEUE_URL\",\"region\":\"us-east-1\"}}}"
  (send the event above again)
  make -s receive QUEUE="\$QUEUE_URL"

Another store and key:  make store NAME="My store"
Ctrl-C stops everything.
INFO
watch_helpers
