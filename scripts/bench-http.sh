#!/usr/bin/env bash
# HTTP load benchmarks on the SQLite store (BENCHMARKS.md): the consent check among a large
# population, durable consent writes with 64 concurrent clients against a plain batched
# durable insert measured in the same run, the export and the erasure of one person among
# them, and `registre verify` of the whole ledger. Needs wrk (Debian package).
# SUBJECTS people with EVENTS_PER_SUBJECT ledger events each (defaults: the issues' 1 million
# people and 10 million events).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/registre-target}"
SUBJECTS="${SUBJECTS:-1000000}"
EVENTS_PER_SUBJECT="${EVENTS_PER_SUBJECT:-10}"
SAMPLES="${SAMPLES:-200}"
DURATION="${DURATION:-20s}"
DIR="${BENCH_DIR:-/tmp/registre-bench}"
PORT="${PORT:-18181}"
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p registre -p registre-testkit --bins
BIN="$CARGO_TARGET_DIR/release"
rm -rf "$DIR"
"$BIN/registre" --data-dir "$DIR" demo >/dev/null
KEY=$("$BIN/registre" --data-dir "$DIR" api-key create --name bench --role admin | tail -n1)
"$BIN/registre-bench-seed" --data-dir "$DIR" --subjects "$SUBJECTS" --events-per-subject "$EVENTS_PER_SUBJECT"
# The per-address and per-key limits stay on, raised out of reach of the load tool.
REGISTRE_API_RATE_LIMIT=1000000000 REGISTRE_API_KEY_RATE_LIMIT=1000000000 REGISTRE_LOG=warn \
  "$BIN/registre" --data-dir "$DIR" serve --listen "127.0.0.1:$PORT" >/dev/null &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
# The server signs its first checkpoint at start, after walking the whole ledger, and warms
# its check cache: measure once both are done.
signed() { curl -s -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/api/v1/ledger/checkpoints" | grep -c '"seq"' || true; }
for _ in $(seq 1 600); do [ "$(signed)" -gt 0 ] && break; sleep 1; done
sleep "${SETTLE:-30}"
echo "== warm-up"
KEY=$KEY SUBJECTS=$SUBJECTS wrk -t2 -c64 -d10s -s scripts/wrk/check.lua "http://127.0.0.1:$PORT" >/dev/null
for connections in 64 32; do
  echo "== consent check, $SUBJECTS subjects, $connections connections"
  KEY=$KEY SUBJECTS=$SUBJECTS wrk -t2 -c$connections -d"$DURATION" --latency -s scripts/wrk/check.lua "http://127.0.0.1:$PORT"
done
echo "== durable consent writes, 64 connections"
KEY=$KEY wrk -t2 -c64 -d"$DURATION" --latency -s scripts/wrk/grant.lua "http://127.0.0.1:$PORT"
# One person at a time, as a DPO's tool would: SAMPLES distinct random people of the seeded
# population are exported, then SAMPLES others erased; curl's time_total is the server's
# answer time on loopback (no connection reuse).
timings() { # LABEL METHOD PATH-PREFIX OFFSET
  local label=$1 method=$2 path=$3 offset=$4 i person
  for i in $(seq 0 $((SAMPLES - 1))); do
    person=$(( (offset + i * 7919) % SUBJECTS ))
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X "$method" \
      -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT$path?email=bench$person@example.org"
  done | awk -v label="$label" '
    $1 !~ /^2/ { errors++ } { t[NR] = $2 * 1000 }
    END { n = asort(t); printf "%s: %d requests, %d errors, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
          label, n, errors, t[int(n*0.5)+1], t[int(n*0.9)+1], t[int(n*0.99)+1], t[n] }'
}
echo "== export of one person ($SUBJECTS subjects, $EVENTS_PER_SUBJECT events each)"
timings export GET /api/v1/subjects/export 17
echo "== erasure of one person"
timings erasure DELETE /api/v1/subjects 500009
echo "== plain batched durable insert on the same disk"
"$BIN/registre-bench-seed" --baseline-inserts "$DIR/baseline" --batch 64 --seconds 10
echo "== verify"
time "$BIN/registre" --data-dir "$DIR" verify
