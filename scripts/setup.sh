#!/usr/bin/env bash
# Installs what building and testing need, pinned, and writes .setup/env.sh for the other
# scripts. Idempotent: a second run only checks versions and returns in seconds.
#
#   scripts/setup.sh          tools to build and run (toolchain, cargo-leptos, wasm-bindgen,
#                             tailwind, wasm-opt)
#   scripts/setup.sh --test   also Chromium + ChromeDriver and a running PostgreSQL
#
# It downloads only from crates.io, npm and Debian. Where rustup can add the wasm32 target
# (an ordinary online machine) it uses rustup's toolchain; where it cannot (a build machine
# that reaches only package registries) it uses Debian's Rust and builds the wasm32 standard
# library from source.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.11
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE="$ROOT/.setup"
CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
WANT_TEST=0
[ "${1:-}" = "--test" ] && WANT_TEST=1

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "root is needed to run: $*"; fi
}

APT_UPDATED=0
apt_ensure() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install them"
  if [ $APT_UPDATED = 0 ]; then
    log "apt-get update"
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  log "installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

mkdir -p "$STATE"

# ---------------------------------------------------------------- Rust toolchain route
# BOOKING_TOOLCHAIN=debian|rustup forces a route (e.g. to check the offline one online).
route=${BOOKING_TOOLCHAIN:-}
case "$route" in ""|debian|rustup) ;; *) die "BOOKING_TOOLCHAIN must be debian or rustup" ;; esac
[ -z "$route" ] && [ -f "$STATE/route" ] && route=$(cat "$STATE/route")
if [ "$route" = rustup ] && ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  [ -n "${BOOKING_TOOLCHAIN:-}" ] && die "BOOKING_TOOLCHAIN=rustup but rustup has no wasm32-unknown-unknown target"
  route=""
fi
if [ -z "$route" ]; then
  if command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    route=rustup
  elif command -v rustup >/dev/null 2>&1 \
      && curl -fsS --max-time 5 -o /dev/null https://static.rust-lang.org/rustup/release-stable.toml 2>/dev/null \
      && timeout 600 rustup target add wasm32-unknown-unknown >&2; then
    route=rustup
  else
    log "rustup cannot add wasm32-unknown-unknown here: using Debian's Rust and building std for wasm from source"
    route=debian
  fi
fi

if [ "$route" = debian ]; then
  apt_ensure rustc-web cargo-web rust-web-src lld-22
  [ -x /usr/bin/rust-lld ] || die "/usr/bin/rust-lld missing after installing lld-22"
  TOOL_PATH="/usr/bin:$CARGO_HOME/bin"
  TOOL_CARGO=/usr/bin/cargo
  TOOL_RUSTC=/usr/bin/rustc
else
  TOOL_PATH="$CARGO_HOME/bin"
  TOOL_CARGO=$(command -v cargo)
  TOOL_RUSTC=$(command -v rustc)
fi
echo "$route" > "$STATE/route"

{
  echo "# Written by scripts/setup.sh; sourced by scripts/with-env.sh. Route: $route"
  echo "export PATH=\"$ROOT/node_modules/.bin:$TOOL_PATH:\$PATH\""
  echo "export CARGO_TARGET_DIR=\"$ROOT/target\""
  # Leptos reads this at compile time; cargo-leptos sets it too. Setting it for every cargo
  # command keeps test builds and release builds identical (same artifacts, same file names).
  echo "export LEPTOS_OUTPUT_NAME=booking"
  # The wasm's panic locations name their source files: without the registry's directory the
  # names are shorter (the widget's download) and the same on every machine. The last prefix
  # that matches is the one applied, so each index's own directory goes after their parent.
  registry="${CARGO_HOME:-$HOME/.cargo}/registry/src"
  remap="--remap-path-prefix=$registry/="
  for index in "$registry"/*/; do
    [ -d "$index" ] && remap="$remap --remap-path-prefix=$index="
  done
  echo "export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS=\"$remap\""
  if [ "$route" = debian ]; then
    # Builds std for wasm32 from rust-web-src; affects only builds with --target (the wasm).
    echo "export RUSTC_BOOTSTRAP=1"
    echo "export CARGO_UNSTABLE_BUILD_STD=std,panic_abort"
  fi
} > "$STATE/env.sh.new"
mv "$STATE/env.sh.new" "$STATE/env.sh"

# ---------------------------------------------------------------- cargo tools
# The tools' locked dependencies need a newer rustc than some machines' default toolchain
# (cargo-leptos 0.3.11 needs 1.96). Install them with the route's toolchain when it is new
# enough, otherwise with Debian's rustc-web, which only builds the tools, not the project.
INSTALL_MIN_RUSTC=1.96
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }
install_toolchain() {
  local have
  have=$("$TOOL_RUSTC" --version | awk '{print $2}')
  if version_ge "$have" "$INSTALL_MIN_RUSTC"; then
    INSTALL_PATH=$TOOL_PATH INSTALL_CARGO=$TOOL_CARGO INSTALL_RUSTC=$TOOL_RUSTC
  else
    log "rustc $have is older than $INSTALL_MIN_RUSTC: installing tools with Debian's rustc-web"
    apt_ensure rustc-web cargo-web
    INSTALL_PATH="/usr/bin:$CARGO_HOME/bin" INSTALL_CARGO=/usr/bin/cargo INSTALL_RUSTC=/usr/bin/rustc
  fi
}
# Prebuilt tools, where the machine can fetch them: cargo-binstall downloads the release
# binaries their authors publish, in seconds instead of minutes of compiling. It is used when
# it is installed already, or fetched (itself a prebuilt binary) when GitHub answers; a
# machine that reaches only package registries compiles, as below. BOOKING_PREBUILT=0 always
# compiles.
BINSTALL=""
find_binstall() {
  [ "${BOOKING_PREBUILT:-1}" = 0 ] && return 1
  [ -n "$BINSTALL" ] && return 0
  if [ -x "$CARGO_HOME/bin/cargo-binstall" ]; then BINSTALL="$CARGO_HOME/bin/cargo-binstall"; return 0; fi
  if command -v cargo-binstall >/dev/null 2>&1; then BINSTALL=$(command -v cargo-binstall); return 0; fi
  local arch
  case "$(uname -m)" in x86_64|aarch64) arch=$(uname -m) ;; *) return 1 ;; esac
  curl -fsS --max-time 5 -o /dev/null https://github.com 2>/dev/null || return 1
  log "fetching cargo-binstall (prebuilt)"
  mkdir -p "$CARGO_HOME/bin"
  curl -fsSL --max-time 60 "https://github.com/cargo-bins/cargo-binstall/releases/latest/download/cargo-binstall-$arch-unknown-linux-musl.tgz" \
    | tar -xz -C "$CARGO_HOME/bin" cargo-binstall 2>/dev/null || return 1
  BINSTALL="$CARGO_HOME/bin/cargo-binstall"
}

cargo_install() { # name version opt-level [extra args]
  local name=$1 version=$2 opt=$3; shift 3
  if find_binstall; then
    log "installing a prebuilt $name $version (cargo-binstall)"
    if timeout 300 "$BINSTALL" --no-confirm --disable-strategies compile --root "$CARGO_HOME" "$name@$version" >&2; then
      return 0
    fi
    log "no prebuilt $name $version could be fetched: compiling it"
  fi
  [ -n "${INSTALL_CARGO:-}" ] || install_toolchain
  log "installing $name $version from crates.io (once per machine)"
  # A cheap profile for the tools: they orchestrate the build and transform one small wasm
  # file, so full optimisation and LTO buy nothing but tens of minutes on 2 cores.
  env PATH="$INSTALL_PATH:$PATH" RUSTC="$INSTALL_RUSTC" \
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt" CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_TARGET_DIR="$STATE/install-target" \
    "$INSTALL_CARGO" install "$name" --version "$version" --root "$CARGO_HOME" "$@" >&2
}

have_version() { # binary expected-substring
  [ -x "$CARGO_HOME/bin/$1" ] && "$CARGO_HOME/bin/$1" --version 2>/dev/null | grep -q "$2"
}

have_version cargo-leptos "$CARGO_LEPTOS_VERSION" || cargo_install cargo-leptos "$CARGO_LEPTOS_VERSION" 0 --locked

# wasm-bindgen-cli must match the wasm-bindgen library in Cargo.lock exactly.
[ -f "$ROOT/Cargo.lock" ] || (cd "$ROOT" && PATH="$TOOL_PATH:$PATH" "$TOOL_CARGO" generate-lockfile >&2)
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")
[ -n "$WB_VERSION" ] || die "cannot read the wasm-bindgen version from Cargo.lock"
# Without --locked: the CLI's own lock file pins crates some registry mirrors do not serve.
have_version wasm-bindgen "$WB_VERSION" || cargo_install wasm-bindgen-cli "$WB_VERSION" 1

# ---------------------------------------------------------------- npm tools
command -v npm >/dev/null 2>&1 || apt_ensure nodejs npm
lock_sum=$(cat "$ROOT/package.json" "$ROOT/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ ! -x "$ROOT/node_modules/.bin/tailwindcss" ] || [ "$(cat "$STATE/npm.sum" 2>/dev/null)" != "$lock_sum" ]; then
  log "npm install (tailwindcss, wasm-opt from binaryen, playwright-core)"
  # `npm install` rather than `npm ci`: it installs the locked versions all the same, and
  # npm 11's `ci` refuses lock files that omit other platforms' optional tailwind binaries.
  (cd "$ROOT" && npm install --no-audit --no-fund --loglevel=error >&2)
  echo "$lock_sum" > "$STATE/npm.sum"
fi

# ---------------------------------------------------------------- test services
if [ $WANT_TEST = 1 ]; then
  # sqlite3: the browser tests check what the server wrote into its database.
  apt_ensure chromium chromium-driver sqlite3
  "$ROOT/scripts/postgres.sh" ensure
  # The SMTP server the e-mail tests send to (scripts/smtp-sink.py), for the python3 on PATH.
  if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
    log "installing aiosmtpd for the python3 on PATH"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore 'aiosmtpd==1.4.6'
  fi
fi

log "ready ($route toolchain)"
