#!/usr/bin/env bash
# `make api-test`: schemathesis against the local stack of `make run` (moto, the real function binaries under
# cargo lambda watch), with the OpenAPI document the code generates (docs/openapi.json). Every operation
# gets up to API_EXAMPLES generated requests (within API_SECONDS for the whole run) with a valid key for the
# demo store; the checks are schemathesis's own (no 5xx, statuses, content types, headers and bodies as
# documented). Its coverage and stateful phases are left to longer runs: through cargo lambda watch and moto a
# request takes tens of milliseconds, and those phases send thousands.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="$(cd "${VENV:-.venv}" && pwd)"
API_EXAMPLES="${API_EXAMPLES:-20}"
API_SECONDS="${API_SECONDS:-240}"
export STATE=.local-api-test
free_port() { "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port) MOTO_PORT=$(free_port) SENDGRID_PORT=$(free_port)
export PORT MOTO_PORT SENDGRID_PORT VENV
rm -rf "$STATE"
scripts/run-local.sh >"$STATE.log" 2>&1 &
stack=$!
trap 'kill "$stack" 2>/dev/null; wait "$stack" 2>/dev/null || true' EXIT
for _ in $(seq 1 1200); do
  grep -q "The event collector is running" "$STATE.log" 2>/dev/null && break
  kill -0 "$stack" 2>/dev/null || { cat "$STATE.log"; echo "the local stack did not start" >&2; exit 1; }
  sleep 0.5
done
set -a; . "$STATE/stack.env"; set +a
echo "schemathesis: $API_EXAMPLES examples per operation against $BASE_URL (store $STORE_ID)"
"$VENV/bin/schemathesis" --config-file tools/schemathesis.toml run docs/openapi.json \
  --url "$BASE_URL" --max-examples "$API_EXAMPLES" --max-time "$API_SECONDS" --seed "${API_SEED:-1}" \
  --phases examples,fuzzing \
  --report junit --report-dir target/api-test --no-color
