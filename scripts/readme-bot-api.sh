#!/usr/bin/env bash
# Runs the README's bot API conversation (the sh blocks between the bot-api-example markers)
# exactly as written.
#   scripts/readme-bot-api.sh            against a running `make run` (BASE, AUTH may be set)
#   scripts/readme-bot-api.sh --serve    against a fresh demo server it starts and stops
#                                        (what `make test` does; needs the release build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

example=$(awk '/<!-- bot-api-example:start -->/{on=1; next} /<!-- bot-api-example:end -->/{on=0} on' README.md \
  | awk '/^```sh$/{on=1; next} /^```$/{on=0; next} on')
[ -n "$example" ] || { echo "no bot API example found in README.md" >&2; exit 1; }

if [ "${1:-}" = "--serve" ]; then
  work=$(mktemp -d)
  trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
  export DATABASE_URL="sqlite://$work/booking.db?mode=rwc" LEPTOS_SITE_ADDR=127.0.0.1:0 LEPTOS_SITE_ROOT=target/site
  export BOOKING_MAIL_DIR="$work/mail"
  export BOOKING_DEMO_API_KEY="bk_readme_example_key" BOOKING_DEMO_VOICE_KEY="bk_readme_voice_key"
  target/release/server seed-demo >/dev/null
  target/release/server serve >"$work/out" 2>"$work/err" &
  server=$!
  for _ in $(seq 100); do
    grep -q '^listening on ' "$work/out" 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$work/err" >&2; echo "the server did not start" >&2; exit 1; }
    sleep 0.1
  done
  BASE=$(sed -n 's/^listening on //p' "$work/out")
  [ -n "$BASE" ] || { echo "the server did not say where it listens" >&2; exit 1; }
  export BASE AUTH="demo:$BOOKING_DEMO_API_KEY" VAUTH="demo-voice:$BOOKING_DEMO_VOICE_KEY"
fi

bash -euo pipefail -c "$example"
echo
echo "the README's bot API conversation ran to the end"
