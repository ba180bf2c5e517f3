#!/usr/bin/env bash
# Dependency hygiene with cargo-deny (configuration: deny.toml at the repository root):
# licences, bans (duplicates warn) and sources always; RustSec advisories when the advisory
# database can be fetched (this machine may be offline), with a NOTICE when it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-deny >/dev/null 2>&1; then
  echo "installing cargo-deny from crates.io"
  cargo install --locked cargo-deny
fi

cargo deny --log-level error check licenses bans sources

# `fetch db` reaches the advisory database's git repository; offline it fails fast.
if timeout 120 cargo deny fetch db >/dev/null 2>&1; then
  cargo deny --log-level error check advisories
else
  echo "NOTICE: the RustSec advisory database could not be fetched (offline?);" \
       "advisories were NOT checked. Run scripts/deny.sh where the network reaches GitHub."
fi
