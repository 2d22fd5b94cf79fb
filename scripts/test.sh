#!/usr/bin/env bash
# `make test`: every suite, and a loud failure if a service a suite needs is missing.
#   1. unit tests and property tests (domain, app)
#   2. integration tests on SQLite and on PostgreSQL (store, server over real HTTP)
#   3. the README's bot API conversation, as written, against a fresh demo server
#   4. browser end-to-end tests in headless Chromium against the release build
# and checks the deployment files (deploy/) first.
# The HTTP suites of 2 and the widget's browser suite also run as of several hard dates and at
# the real date (scripts/test-dates).
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

step "deployment files: the compose file against its schema, the wiring of deploy/"
scripts/with-env.sh node scripts/check-deploy.mjs
# The image only where a container engine runs (it builds the whole project once more).
if [ "${BOOKING_SKIP_IMAGE:-0}" != 1 ] && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  docker build -f deploy/Dockerfile -t booking:test .
else
  echo "no container engine runs here: the image is not built"
fi

step "release build (server + wasm front end)"
scripts/build.sh
ls target/site/pkg/*.wasm >/dev/null

# The HTTP and browser suites run as of each date in scripts/test-dates (the server's clock is
# set with --test-clock; see store::Clock), then at the real date, so that nothing works only
# at fixed dates. The first date is the default of a plain `cargo test`.
dates=$(awk '!/^#/ && NF { print $1 }' scripts/test-dates)
first_date=$(echo "$dates" | head -n1)
# --no-default-features: the features `cargo leptos build` gave the server's dependencies, so
# that the tests link the libraries the release build compiled instead of compiling them again
# (a package's `default` feature name alone changes its build).
workspace=(--workspace --exclude frontend --no-default-features)
http_suites=("${workspace[@]}" --test booking_page --test bot_api --test voicebot --test webhooks --test emails --test cli --test admin_api)

step "unit, property and integration tests (SQLite and PostgreSQL), as of $first_date"
BOOKING_TEST_NOW=$first_date scripts/with-env.sh cargo test --release "${workspace[@]}"

for when in $(echo "$dates" | tail -n +2) real; do
  step "HTTP suites (SQLite and PostgreSQL) as of $when"
  BOOKING_TEST_NOW=$when scripts/with-env.sh cargo test --release "${http_suites[@]}"
done

step "the README's bot API conversation against a fresh demo server, at the real date"
scripts/readme-bot-api.sh --serve

step "browser end-to-end tests (headless Chromium) as of $first_date"
BOOKING_TEST_NOW=$first_date scripts/with-env.sh node --test --test-concurrency=1 end2end/tests/*.test.mjs
# The patient flow is what calendars move under; the console's forms do not depend on the date.
for when in $(echo "$dates" | tail -n +2) real; do
  step "browser end-to-end tests of the patient widget (headless Chromium) as of $when"
  BOOKING_TEST_NOW=$when scripts/with-env.sh node --test --test-concurrency=1 end2end/tests/widget.test.mjs
done

scripts/postgres.sh clean
# SQLite databases the tests created (store::testing names them booking_test_*.db).
rm -f "${TMPDIR:-/tmp}"/booking_test_*.db "${TMPDIR:-/tmp}"/booking_test_*.db-wal "${TMPDIR:-/tmp}"/booking_test_*.db-shm
# Mail folders of the suites (patient e-mails written as files, the SMTP sink's).
rm -rf "${TMPDIR:-/tmp}"/booking_test_mail_*
printf '\n\033[1;32mall suites passed in %ss\033[0m\n' "$(( $(date +%s) - started ))"
