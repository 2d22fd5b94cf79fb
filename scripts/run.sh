#!/usr/bin/env bash
# `make run`: set up, build for release, migrate, seed the demo clinic if absent, serve.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

scripts/setup.sh
scripts/build.sh

export DATABASE_URL=${DATABASE_URL:-sqlite://data/booking.db?mode=rwc}
export LEPTOS_SITE_ADDR=${LEPTOS_SITE_ADDR:-127.0.0.1:3000}
export LEPTOS_SITE_ROOT=${LEPTOS_SITE_ROOT:-target/site}

# The demo bot's and voice bot's API keys: taken from the environment, or generated once per
# checkout and kept in data/ (never committed) so every `make run` can print them.
mkdir -p data
if [ -z "${BOOKING_DEMO_API_KEY:-}" ]; then
  if [ ! -s data/demo-api-key ]; then
    (umask 077; printf 'bk_%s\n' "$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" > data/demo-api-key)
  fi
  BOOKING_DEMO_API_KEY=$(cat data/demo-api-key)
fi
export BOOKING_DEMO_API_KEY
if [ -z "${BOOKING_DEMO_VOICE_KEY:-}" ]; then
  if [ ! -s data/demo-voice-key ]; then
    (umask 077; printf 'bk_%s\n' "$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" > data/demo-voice-key)
  fi
  BOOKING_DEMO_VOICE_KEY=$(cat data/demo-voice-key)
fi
export BOOKING_DEMO_VOICE_KEY
# The demo owner's console password, kept the same way.
if [ -z "${BOOKING_DEMO_OWNER_PASSWORD:-}" ]; then
  if [ ! -s data/demo-owner-password ]; then
    (umask 077; od -An -N12 -tx1 /dev/urandom | tr -d ' \n' > data/demo-owner-password)
  fi
  BOOKING_DEMO_OWNER_PASSWORD=$(cat data/demo-owner-password)
fi
export BOOKING_DEMO_OWNER_PASSWORD

target/release/server migrate
target/release/server seed-demo

base="http://$LEPTOS_SITE_ADDR"
# Never the URL itself: it may hold the SMTP password.
if [ -n "${BOOKING_SMTP_URL:-}" ]; then mail="sent through the SMTP server of BOOKING_SMTP_URL"; else mail="written as .eml files to ${BOOKING_MAIL_DIR:-data/mail} (set BOOKING_SMTP_URL to send them)"; fi
cat <<INFO

  Patient booking page   $base/book/demo
  Embed on a website     <script src="$base/embed.js" data-clinic="demo" async></script>
                         (allow the website first: target/release/server embed-origins demo http://localhost:8080)
  Clinic console         $base/admin   (owner@demo.example, password $BOOKING_DEMO_OWNER_PASSWORD)
  Bot API credentials    user demo, key $BOOKING_DEMO_API_KEY   (HTTP Basic)
  Voice-bot credentials  user demo-voice, key $BOOKING_DEMO_VOICE_KEY   (line demo-sip)
  Database               $DATABASE_URL
  Patient e-mails        $mail

INFO
exec target/release/server serve
