#!/usr/bin/env bash
# The README's test command: install into a virtual environment of its own (torch pinned first, since
# an unpinned torch pulls a multi-GB CUDA build), then run the tests against the *installed* package.
# Extra arguments go to pytest (e.g. --slow).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q torch==2.13.0
# Non-editable on purpose: missing entry points or package data show up here, not on users' machines.
"$VENV/bin/python" -m pip install -q --force-reinstall --no-deps .
"$VENV/bin/python" -m pip install -q ".[dev,offline]"
"$VENV/bin/python" -m pip check
# The `pytest` script (not `python -m pytest`) keeps the source tree off sys.path.
SPACY_BIOBERT_TEST_INSTALLED=1 "$VENV/bin/pytest" -q -p no:cacheprovider "$@"
