#!/usr/bin/env bash
# The release build: server binary and front end. The front end's files are named by their
# content (hash-files in Cargo.toml) and precompressed (name.br at brotli 11, name.gz), which
# the server sends as they are, cached by browsers for a year. The console's and the desk's
# stylesheet is built beside the patient pages' own (scripts/console-style.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/with-env.sh cargo leptos build --release --precompress "$@"
case " $* " in
  *" --server-only "*) ;;
  *) scripts/with-env.sh node scripts/console-style.mjs ;;
esac
