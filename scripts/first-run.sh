#!/usr/bin/env bash
# The first five minutes, as a newcomer lives them: clone the repository afresh, run the
# README's run command exactly as written (only the port changes, through REGISTRE_LISTEN, so
# that it never collides), and fetch the pages the server says to visit. Fails when the
# command does not start, or when the hub, a form or the portal is not a 200 HTML page.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/registre-target}"

# The run command is the first line of the first ```sh block of the README.
run_command=$(awk '/^```sh$/ {inside=1; next} inside && NF {print; exit}' README.md)
case "$run_command" in
  "cargo run "*) ;;
  *) echo "first-run: the README's first command is not a cargo run line: '$run_command'" >&2; exit 1 ;;
esac

# One fixed place, so that the shared target dir keeps one set of this clone's artifacts
# instead of a new set per run.
clone="${REGISTRE_FIRST_RUN_DIR:-/var/cache/registre-first-run}"
rm -rf "$clone"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -- "-$server_pid" 2>/dev/null || kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$clone"
}
trap cleanup EXIT

git clone -q "$PWD" "$clone"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
log="$clone/server.log"

echo "first-run: $run_command   (in a fresh clone, REGISTRE_LISTEN=127.0.0.1:$port)"
(cd "$clone" && REGISTRE_LISTEN="127.0.0.1:$port" setsid bash -c "$run_command" >"$log" 2>&1) &
server_pid=$!

# The build may take minutes on a cold cache; the server answers /healthz once it serves.
for _ in $(seq 1 1800); do
  if curl -fsS -o /dev/null "$base/healthz" 2>/dev/null; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "first-run: the README's run command stopped before serving:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  sleep 1
done
curl -fsS -o /dev/null "$base/healthz" || { echo "first-run: /healthz never answered" >&2; tail -n 30 "$log" >&2; exit 1; }

# The server tells where to go; the hub and the portal must be among what it prints.
for expected in "$base/" "$base/privacy" "$base/console"; do
  grep -qF "$expected" "$log" || { echo "first-run: the start-up message does not mention $expected" >&2; cat "$log" >&2; exit 1; }
done

failed=0
for path in / /f/newsletter /privacy; do
  answer=$(curl -sS -H 'Accept: text/html' -o /dev/null -w '%{http_code} %{content_type}' "$base$path")
  case "$answer" in
    "200 text/html"*) echo "first-run: $path → $answer" ;;
    *) echo "first-run: $path answered '$answer', not a 200 HTML page" >&2; failed=1 ;;
  esac
done
exit "$failed"
