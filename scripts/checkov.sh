#!/usr/bin/env bash
# Scans a compiled output directory with checkov (ARM and Bicep frameworks). Creates a virtual
# environment with a pinned checkov on first use. Usage: scripts/checkov.sh OUT_DIR [OUT_DIR...]
#
# Checks that fire by design for an ISE are skipped here and listed, with their reasons, in the
# README (section "Security scanners"); any other failed check fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKOV_VERSION=3.3.30
VENV="${ISENET_CHECKOV_VENV:-target/checkov-venv}"
if [ ! -x "$VENV/bin/checkov" ] || ! "$VENV/bin/checkov" --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
fi
# Checks failing by design, comma-separated (README, "Security scanners"; none with this version).
SKIP="${ISENET_CHECKOV_SKIP:-}"
status=0
for dir in "$@"; do
  echo "checkov $CHECKOV_VERSION: $dir"
  args=(--directory "$dir" --framework arm bicep --compact --quiet --skip-download)
  [ -n "$SKIP" ] && args+=(--skip-check "$SKIP")
  "$VENV/bin/checkov" "${args[@]}" || status=1
done
exit $status
