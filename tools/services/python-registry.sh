#!/usr/bin/env bash
# Makes .cache/python-registry, a Python venv holding os-api's own registry
# client (os-package-registry 0.0.21 on elasticsearch-py 5, from PyPI), for
# test/node/os-package-registry.test.ts. Does nothing when the venv already
# has the pinned set. Prints the venv's python on stdout (logs go to stderr).
#
# Python: OS_TEST_PYTHON if set, else python3.11, else python3 (tested with
# 3.11; elasticsearch-py 5 predates the newest releases).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.cache/python-registry
req=tools/services/python-registry.txt
if [ -x "$venv/bin/python" ] && cmp -s "$req" "$venv/requirements.txt"; then
  echo "$PWD/$venv/bin/python"
  exit 0
fi
python=""
for candidate in "${OS_TEST_PYTHON:-}" python3.11 python3; do
  if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1; then python=$candidate; break; fi
done
if [ -z "$python" ]; then echo "python-registry: no python3 found (set OS_TEST_PYTHON)" >&2; exit 1; fi
echo "python-registry: creating $venv with $("$python" --version 2>&1)" >&2
rm -rf "$venv"
"$python" -m venv "$venv" >&2
# Every package is pinned in the file, so nothing else is resolved.
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$req" >&2
cp "$req" "$venv/requirements.txt"
echo "$PWD/$venv/bin/python"
