#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for FUZZ_SECONDS each (default 60), one after the
# other, on a scratch copy of the committed corpus (fuzz/corpus/<target>/ is read, never
# grown; FUZZ_MERGE=1 merges what was found back into it, minimised). Installs cargo-fuzz
# when missing and builds on the stable toolchain with RUSTC_BOOTSTRAP=1. Not part of
# scripts/test.sh: it takes minutes. Exits non-zero when a target found a crash or a hang
# (kept in fuzz/artifacts/<target>/).
#
#   scripts/fuzz.sh                     # every target, 60 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh form_body json_api
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/registre-fuzz}"
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR" 2>/dev/null || export CARGO_TARGET_DIR="$PWD/fuzz/target"
SECONDS_EACH="${FUZZ_SECONDS:-60}"
# No sanitizer: the workspace forbids unsafe code, so AddressSanitizer would only slow the
# runs; libFuzzer's coverage instrumentation, debug assertions and overflow checks stay on.
# Four codegen units: a much shorter first build on a two-core machine.
read -r -a BUILD_FLAGS <<<"${FUZZ_BUILD_FLAGS:--s none --codegen-units 4}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

max_len() {
  case "$1" in
    audit_html) echo 65536 ;;
    csv_import) echo 32768 ;;
    json_api) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

if [ "$#" -gt 0 ]; then
  TARGETS=("$@")
else
  mapfile -t TARGETS < <(cd fuzz && cargo fuzz list)
fi

echo "==> building ${TARGETS[*]}"
(cd fuzz && cargo fuzz build "${BUILD_FLAGS[@]}" --target-dir "$CARGO_TARGET_DIR")

WORK="$(mktemp -d "${TMPDIR:-/tmp}/registre-fuzz.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# The targets' data dirs (SQLite, outbox) go under the scratch dir, removed at the end.
mkdir -p "$WORK/tmp"
export TMPDIR="$WORK/tmp"
failed=()
for target in "${TARGETS[@]}"; do
  echo "==> $target: ${SECONDS_EACH}s"
  mkdir -p "$WORK/$target" "fuzz/corpus/$target" "fuzz/artifacts/$target"
  before="$(ls -A "fuzz/artifacts/$target" | wc -l)"
  if (cd fuzz && cargo fuzz run "${BUILD_FLAGS[@]}" --target-dir "$CARGO_TARGET_DIR" "$target" \
      "$WORK/$target" "corpus/$target" -- \
      -max_total_time="$SECONDS_EACH" -timeout=10 -max_len="$(max_len "$target")" \
      -print_final_stats=1 2>&1 | grep -vE '^"|^###### |# Uses: ' | tail -n 40); then
    :
  fi
  if [ "$(ls -A "fuzz/artifacts/$target" | wc -l)" -gt "$before" ]; then
    failed+=("$target")
  fi
  if [ "${FUZZ_MERGE:-0}" = 1 ]; then
    mkdir -p "$WORK/$target.min"
    (cd fuzz && cargo fuzz run "${BUILD_FLAGS[@]}" --target-dir "$CARGO_TARGET_DIR" "$target" \
      "$WORK/$target.min" "corpus/$target" "$WORK/$target" -- -merge=1 \
      -max_len="$(max_len "$target")" -timeout=10 >/dev/null 2>&1) || true
    rm -f "fuzz/corpus/$target"/*
    cp "$WORK/$target.min"/* "fuzz/corpus/$target"/
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "==> crashes or hangs found by: ${failed[*]} (see fuzz/artifacts/)"
  exit 1
fi
echo "==> no crash, no hang"
