#!/usr/bin/env bash
# Creates the Python virtual environment with schemathesis (the OpenAPI
# conformance fuzzer run by test/node/openapi-conformance.test.ts) under
# .cache/, unless it is already there with the pinned version. Prints the
# path of the schemathesis executable. Used by .ci/run and by the test.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="4.32.5"
VENV=".cache/schemathesis-venv"
BIN="$VENV/bin/schemathesis"
if ! [ -x "$BIN" ] || ! "$BIN" --version 2>/dev/null | grep -q "version $VERSION\$"; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION" >&2
fi
echo "$PWD/$BIN"
