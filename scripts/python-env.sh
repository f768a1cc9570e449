#!/usr/bin/env bash
# Makes .venv (a Python virtual environment in the repository, ignored by git) with the
# pinned packages of scripts/python-requirements.txt, and prints its interpreter's path.
# Needs python3 with the venv module (Debian: python3-venv) and access to PyPI.
#   bash scripts/python-env.sh             # creates or updates .venv
#   export SGD_ESCAPE_PYTHON="$(bash scripts/python-env.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv >&2
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
    -r scripts/python-requirements.txt >&2
echo "$PWD/.venv/bin/python"
