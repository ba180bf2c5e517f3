#!/usr/bin/env bash
# OpenAPI-driven fuzzing of the API with schemathesis (docs/operations.md, "API fuzzing with
# schemathesis"). Builds `registre`, starts it on a free loopback port with a fresh data dir
# holding the demo organisation, and runs schemathesis over every operation of
# /api/openapi.json with an admin key: no 5xx answer, answers as documented, and every error
# in the JSON error shape of PRODUCT.md (scripts/schemathesis_hooks.py). Exits non-zero on
# any failure. Not part of scripts/test.sh: it takes minutes and needs PyPI once.
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
cargo build -q -p registre
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
for _ in $(seq 1 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done
curl -fs "$BASE/healthz" >/dev/null

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
