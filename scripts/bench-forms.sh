#!/usr/bin/env bash
# Load benchmark of full form submissions on the SQLite store (see BENCHMARKS-forms.md).
# A release `registre serve --demo` on a fresh data dir; FORMS forms are opened first (each
# with its own cookie and single-use token), then wrk posts them, each for a new person.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-target}"
DURATION="${DURATION:-20s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-1}"
FORMS="${FORMS:-80000}"
PORT="${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"

cargo build --release -p registre >/dev/null
data="$(mktemp -d)"
# The per-address limits would stop a load from one address: they are set out of reach
# (still counted, so their cost is measured).
REGISTRE_FORM_RATE_LIMIT=1000000000 REGISTRE_PAGE_RATE_LIMIT=1000000000 REGISTRE_LOG=warn \
  "$TARGET/release/registre" serve --demo --data-dir "$data" --listen "127.0.0.1:$PORT" >/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
kill -0 "$server" 2>/dev/null || { echo "the server did not start" >&2; exit 1; }

python3 scripts/bench-forms-prefetch.py "http://127.0.0.1:$PORT" "$FORMS" "$data/forms.tsv"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s scripts/bench-forms.lua "http://127.0.0.1:$PORT" -- "$data/forms.tsv" "$THREADS"
python3 - "$data/registre.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
q = lambda sql: db.execute(sql).fetchone()[0]
print(f"stored: {q('SELECT COUNT(*) FROM submissions')} submissions, {q('SELECT COUNT(*) FROM subjects')} subjects, "
      f"{q('SELECT COUNT(*) FROM consent_events')} ledger events, {q('SELECT COUNT(*) FROM outbox')} webhook rows (none without a subscription)")
PY
