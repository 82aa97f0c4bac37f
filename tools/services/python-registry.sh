#!/usr/bin/env bash
# Makes .cache/python-registry, a Python venv holding os-api's own registry
# client (os-package-registry 0.0.21 on elasticsearch-py 5, from PyPI), for
# test/node/os-package-registry.test.ts. Does nothing when the venv already
# has the pinned set for the same interpreter. Prints the venv's python on
# stdout (logs go to stderr).
#
# Python: OS_TEST_PYTHON (a command or a path) if it runs, else python3.11,
# else python3. The pins need 3.10 or newer; tested with 3.11, 3.12, 3.13.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.cache/python-registry
req=tools/services/python-registry.txt
python=""
for candidate in "${OS_TEST_PYTHON:-}" python3.11 python3; do
  # Run it: pyenv has a shim for every installed version, working only for the active ones.
  if [ -n "$candidate" ] && "$candidate" -c 'import venv' >/dev/null 2>&1; then python=$candidate; break; fi
done
if [ -z "$python" ]; then echo "python-registry: no python3 found (set OS_TEST_PYTHON)" >&2; exit 1; fi
# What the venv was made from: the pins and the interpreter's version.
stamp="$(cat "$req"; echo "# $("$python" --version 2>&1)")"
if [ -x "$venv/bin/python" ] && [ "$stamp" = "$(cat "$venv/made-from" 2>/dev/null)" ]; then
  echo "$PWD/$venv/bin/python"
  exit 0
fi
echo "python-registry: creating $venv with $("$python" --version 2>&1)" >&2
rm -rf "$venv"
"$python" -m venv "$venv" >&2
# Every package is pinned in the file, so nothing else is resolved.
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$req" >&2
printf '%s\n' "$stamp" > "$venv/made-from"
echo "$PWD/$venv/bin/python"
