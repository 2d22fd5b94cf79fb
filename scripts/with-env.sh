#!/usr/bin/env bash
# Runs a command with the toolchain environment that scripts/setup.sh chose.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$ROOT/.setup/env.sh" ] || { echo "run scripts/setup.sh first (make does this)" >&2; exit 1; }
# shellcheck source=/dev/null
. "$ROOT/.setup/env.sh"
exec "$@"
