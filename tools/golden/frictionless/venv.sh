#!/usr/bin/env bash
# Creates .cache/frictionless-venv with the pinned frictionless (for
# generate.py), unless it is already there. Prints its python.
set -euo pipefail
cd "$(dirname "$0")/../../.."
VERSION="5.18.1"
VENV=".cache/frictionless-venv"
if ! [ -x "$VENV/bin/frictionless" ] || ! "$VENV/bin/python" -c "import frictionless, sys; sys.exit(frictionless.__version__ != '$VERSION')" 2>/dev/null; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "frictionless==$VERSION" >&2
fi
echo "$PWD/$VENV/bin/python"
