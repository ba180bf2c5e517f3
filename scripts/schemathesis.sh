#!/usr/bin/env bash
# OpenAPI-driven fuzzing of the API with schemathesis (docs/operations.md, "API fuzzing with
# schemathesis"). Builds `registre`, starts it on a free loopback port with a fresh data dir
# holding the demo organisation, and runs schemathesis over every operation of
# /api/openapi.json with an admin key: no 5xx answer, answers as documented, and every error
# in the JSON error shape of PRODUCT.md (scripts/schemathesis_hooks.py). Every path
# parameter gets a real id (a processor, an evidence file, a request, a breach, a consent
# event, an erasure certificate, a webhook, a purpose and a touchpoint, created or found
# first), so each operation is exercised beyond its 404. Exits non-zero on any failure.
# scripts/test.sh runs it after the cargo tests (SCHEMATHESIS_MAX_EXAMPLES, default 20).
# schemathesis is installed from PyPI into a venv under /var/cache once, then reused.
#
#   scripts/schemathesis.sh                 # fixed seed, MAX_EXAMPLES=40 per operation
#   SEED=7 MAX_EXAMPLES=200 scripts/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/registre-target}"
VENV="${SCHEMATHESIS_VENV:-/var/cache/schemathesis-venv}"
SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
SEED="${SEED:-20261203}"
MAX_EXAMPLES="${MAX_EXAMPLES:-40}"
REPORT_DIR="${REPORT_DIR:-$CARGO_TARGET_DIR/schemathesis}"

step() { printf '\n==> %s\n' "$*"; }

step "schemathesis $SCHEMATHESIS_VERSION in $VENV"
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

step "Build"
# The same targets and features as the test step, so that after it nothing is rebuilt.
cargo build -q --workspace --all-targets
BIN="$CARGO_TARGET_DIR/debug/registre"

step "Server"
DIR=$(mktemp -d /tmp/registre-schemathesis.XXXXXX)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" --data-dir "$DIR" demo >/dev/null
KEY=$("$BIN" --data-dir "$DIR" api-key create --name fuzz --role admin | tail -n1)
# Rate limits out of reach: 0 turns each off (crates/registre-web/src/api/limits.rs).
REGISTRE_API_RATE_LIMIT=0 REGISTRE_API_KEY_RATE_LIMIT=0 REGISTRE_LOG="${REGISTRE_LOG:-warn}" \
  "$BIN" --data-dir "$DIR" serve --listen "127.0.0.1:$PORT" >"$DIR/server.log" 2>&1 &
SERVER=$!
cleanup() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  if [ "${KEEP_DATA:-0}" = 1 ]; then echo "data dir and server log kept in $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
BASE="http://127.0.0.1:$PORT"
# Ready, not only alive: /readyz is among the operations, and answers 503 until the start-up
# walk of the ledger is done.
for _ in $(seq 1 300); do curl -fs "$BASE/readyz" >/dev/null && break; sleep 0.1; done
curl -fs "$BASE/readyz" >/dev/null

step "Real ids for every path parameter"
# api METHOD PATH [JSON BODY]: the JSON answer; a failure stops the script.
api() {
  local method=$1 path=$2 body=${3:-}
  if [ -n "$body" ]; then
    curl -fsS -X "$method" "$BASE$path" -H "Authorization: Bearer $KEY" \
      -H 'Content-Type: application/json' --data "$body"
  else
    curl -fsS -X "$method" "$BASE$path" -H "Authorization: Bearer $KEY"
  fi
}
# field EXPRESSION: a value of the JSON on stdin (`["items"][0]["id"]`).
field() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
PROCESSOR_ID=$(api POST /api/v1/processors '{"name": "Fuzz Mailer", "service": "emailing", "role": "processor", "country": "FR", "transfer_mechanism": null, "dpa_signed_on": "2024-01-10", "purposes": ["newsletter"], "data_categories": ["contact"], "subprocessors": []}' | field '["id"]')
EVIDENCE_ID=$(curl -fsS -X POST "$BASE/api/v1/processors/$PROCESSOR_ID/evidence?name=policy.txt" \
  -H "Authorization: Bearer $KEY" -H 'Content-Type: text/plain' --data 'Security policy, version 3' | field '["id"]')
REQUEST_ID=$(api POST /api/v1/requests '{"type": "access", "email": "fuzz-request@example.org"}' | field '["id"]')
BREACH_ID=$(api GET /api/v1/breaches | field '["items"][0]["id"]')
EVENT_ID=$(api POST /api/v1/consents '{"subject": {"email": "fuzz-consent@example.org"}, "purpose": "newsletter", "action": "grant", "source": "api"}' | field '["event_id"]')
CERTIFICATE_ID=$(api POST /api/v1/subjects/erase '{"email": "fuzz-consent@example.org"}' | field '["certificate_id"]')
WEBHOOK_ID=$(api POST /api/v1/webhooks '{"url": "http://127.0.0.1:9/hook", "events": ["consent.granted"]}' | field '["id"]')
PURPOSE_KEY=$(api GET /api/v1/purposes | field '["items"][0]["key"]')
TOUCHPOINT_KEY=$(api GET /api/v1/touchpoints | field '["items"][0]["key"]')
export PROCESSOR_ID EVIDENCE_ID REQUEST_ID BREACH_ID EVENT_ID CERTIFICATE_ID WEBHOOK_ID PURPOSE_KEY TOUCHPOINT_KEY
echo "processor $PROCESSOR_ID, evidence $EVIDENCE_ID, request $REQUEST_ID, breach $BREACH_ID, event $EVENT_ID,"
echo "certificate $CERTIFICATE_ID, webhook $WEBHOOK_ID, purpose $PURPOSE_KEY, touchpoint $TOUCHPOINT_KEY"

step "schemathesis against $BASE (seed $SEED, at most $MAX_EXAMPLES examples per operation)"
# Which checks run, and the exceptions with their reasons: scripts/schemathesis.toml. The
# custom check (every error in the JSON error shape): scripts/schemathesis_hooks.py.
set +e
SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$PWD/scripts" \
  "$VENV/bin/schemathesis" --config-file scripts/schemathesis.toml run "$BASE/api/openapi.json" \
  --url "$BASE" \
  -H "Authorization: Bearer $KEY" \
  --seed "$SEED" \
  --max-examples "$MAX_EXAMPLES" \
  --workers 2 \
  --request-timeout 35 \
  --suppress-health-check all \
  --generation-database none \
  --report junit --report-dir "$REPORT_DIR" \
  --no-color
STATUS=$?
set -e
# A 5xx that schemathesis did not see (a background task, a panic) is a failure too.
if grep -aE 'ERROR|panicked' "$DIR/server.log" >/dev/null; then
  echo "the server logged errors:"
  grep -aE 'ERROR|panicked' "$DIR/server.log" | head -20
  [ "$STATUS" -ne 0 ] || STATUS=1
fi
echo "schemathesis exit status $STATUS; JUnit report in $REPORT_DIR"
exit "$STATUS"
