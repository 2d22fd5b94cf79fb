#!/usr/bin/env bash
# PostgreSQL for the test suites: `ensure` starts (or installs and starts) a local server and
# checks that BOOKING_TEST_POSTGRES_URL accepts connections; `clean` drops databases that
# earlier test runs left behind. Fails loudly: a suite must never be skipped for want of it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SAVED_URL="$ROOT/.setup/test-postgres-url"
# Precedence: the environment, then a URL this script saved when it installed PostgreSQL,
# then the conventional local superuser with trust authentication.
URL=${BOOKING_TEST_POSTGRES_URL:-$(cat "$SAVED_URL" 2>/dev/null || echo postgres://postgres@127.0.0.1:5432/postgres)}

log() { printf '\033[1m[postgres]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[postgres] error:\033[0m %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

ready() { psql "$URL" -Atqc 'SELECT 1' >/dev/null 2>&1; }

ensure() {
  ready && return 0
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    log "PostgreSQL is not installed: installing Debian's postgresql"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    local fresh_install=1
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  if ! pg_lsclusters -h 2>/dev/null | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
    log "starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  if [ "${fresh_install:-0}" = 1 ]; then
    # Debian's default authentication for TCP is a password: give the test superuser one
    # that only this machine's tests use, and remember the URL.
    (cd / && as_root runuser -u postgres -- psql -qc "ALTER ROLE postgres PASSWORD 'postgres'")
    URL=postgres://postgres:postgres@127.0.0.1:5432/postgres
    mkdir -p "$ROOT/.setup" && echo "$URL" > "$SAVED_URL"
  fi
  for _ in $(seq 1 30); do ready && return 0; sleep 1; done
  die "PostgreSQL does not accept connections at $URL (set BOOKING_TEST_POSTGRES_URL to a superuser URL that does)"
}

clean() {
  local dbs
  dbs=$(psql "$URL" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'booking\_test\_%'")
  for db in $dbs; do psql "$URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null; done
  return 0
}

case "${1:-}" in
  ensure) ensure ;;
  url) echo "$URL" ;;
  clean) ensure; clean ;;
  *) die "usage: $0 ensure|clean|url" ;;
esac
