#!/usr/bin/env bash
# `make test`: every suite, and a loud failure if a service a suite needs is missing.
#   1. unit tests and property tests (domain, app)
#   2. integration tests on SQLite and on PostgreSQL (store, server over real HTTP)
#   3. the README's bot API conversation, as written, against a fresh demo server
#   4. browser end-to-end tests in headless Chromium against the release build
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
started=$(date +%s)
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "setup"
scripts/setup.sh --test
BOOKING_TEST_POSTGRES_URL=$(scripts/postgres.sh url)
export BOOKING_TEST_POSTGRES_URL
scripts/postgres.sh clean
[ -x /usr/bin/chromium ] || { echo "Chromium is missing at /usr/bin/chromium" >&2; exit 1; }

step "release build (server + wasm front end)"
scripts/with-env.sh cargo leptos build --release
ls target/site/pkg/*.wasm >/dev/null

step "unit, property and integration tests (SQLite and PostgreSQL)"
scripts/with-env.sh cargo test --release --workspace --exclude frontend

step "the README's bot API conversation against a fresh demo server"
scripts/readme-bot-api.sh --serve

step "browser end-to-end tests (headless Chromium)"
scripts/with-env.sh node --test --test-concurrency=1 end2end/tests/*.test.mjs

scripts/postgres.sh clean
# SQLite databases the tests created (store::testing names them booking_test_*.db).
rm -f "${TMPDIR:-/tmp}"/booking_test_*.db "${TMPDIR:-/tmp}"/booking_test_*.db-wal "${TMPDIR:-/tmp}"/booking_test_*.db-shm
printf '\n\033[1;32mall suites passed in %ss\033[0m\n' "$(( $(date +%s) - started ))"
