#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, starts PostgreSQL,
# checks formatting and lints, runs every test on SQLite and PostgreSQL, then the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/registre-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# The suite fails, rather than skips, when PostgreSQL is not there.
export REGISTRE_REQUIRE_POSTGRES=1
mkdir -p "$CARGO_TARGET_DIR" 2>/dev/null || export CARGO_TARGET_DIR="$PWD/target"

step() { printf '\n==> %s\n' "$*"; }

step "Tools"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
if ! command -v chromedriver >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 \
      || echo "NOTICE: could not install chromium; the browser tests will fail"
  fi
fi

# systemd-analyze checks the systemd unit (crates/registre/tests/systemd.rs); that test fails,
# rather than skips, without it.
if ! command -v systemd-analyze >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends systemd >/dev/null 2>&1 \
    || echo "NOTICE: could not install systemd; the systemd unit test will fail"
fi
export REGISTRE_REQUIRE_SYSTEMD=1

# The power-loss test (crates/registre/tests/power_loss.rs) mounts a FUSE file system: /dev/fuse.
[ -e /dev/fuse ] || modprobe fuse 2>/dev/null || echo "NOTICE: no /dev/fuse; the power-loss test will fail"
# axe-core for the browser tests' accessibility checks, from the npm registry, cached in the target dir.
AXE_DIR="$CARGO_TARGET_DIR/npm"
command -v npm >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null 2>&1 || true
[ -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ] || npm install --silent --no-audit --no-fund --prefix "$AXE_DIR" axe-core@4 >/dev/null 2>&1 \
  || echo "NOTICE: could not install axe-core"
export REGISTRE_AXE_JS="$AXE_DIR/node_modules/axe-core/axe.min.js"
# The browser tests fail, rather than skip, without Chromium or axe-core; their screenshots are kept here.
export REGISTRE_REQUIRE_BROWSER=1
export REGISTRE_SCREENSHOTS_DIR="${REGISTRE_SCREENSHOTS_DIR:-$CARGO_TARGET_DIR/screenshots}"
echo "Screenshots of the browser tests: $REGISTRE_SCREENSHOTS_DIR"

step "PostgreSQL"
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432
# What durability relies on (registre serve refuses a database where one is off).
psql -h 127.0.0.1 -U postgres -d postgres -Atc "SELECT name || ' = ' || setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')" 2>/dev/null || true
# Databases left by earlier runs (one per test) are dropped in the background so they do not
# pile up; one still in use is left alone.
(psql -h 127.0.0.1 -U postgres -d postgres -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'registre_test_%'" 2>/dev/null \
  | while read -r db; do psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 || true; done) &

step "Format"
cargo fmt --all --check

step "Lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Dependencies (cargo deny: advisories when reachable, licences, bans, sources)"
scripts/deny.sh

step "Tests (SQLite and PostgreSQL; browser tests when Chromium is present)"
cargo test --workspace --locked

step "First run (the README's run command, as written, from a fresh clone)"
scripts/first-run.sh

step "API fuzzing (schemathesis with real ids, bounded)"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-20}" timeout 900 scripts/schemathesis.sh

echo
echo "All checks passed."
