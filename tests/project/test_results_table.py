"""project/scripts/results_table.py: devel metrics beside the published figures."""
import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "project" / "scripts" / "results_table.py"


def load_script():
    spec = importlib.util.spec_from_file_location("results_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_table_reads_metrics_and_marks_missing_pipelines(tmp_path):
    metrics = {"ents_f": 0.8, "ents_per_type": {"Chemical": {"f": 0.9012}, "Disease": {"f": 0.75}},
               "rel_micro_f": 0.3456}
    (tmp_path / "bc5cdr.json").write_text(json.dumps(metrics))
    (tmp_path / "ddi.json").write_text(json.dumps({"ents_f": 0.7, "rel_micro_f": None}))
    text = load_script().table(tmp_path, "tiny")
    rows = {line.split(" | ")[1]: line for line in text.splitlines() if line.startswith("| en_biobert_")}
    assert "| 90.12 | 93.47 | 93.33 |" in rows["NER Chemical"]
    assert "| 34.56 | n/a | n/a |" in rows["CID (concept pairs per document)"]
    assert "| n/a | 80.88 | 82.36 |" in rows["interactions, micro-F over 4 types"]  # scored as None
    assert "not evaluated" in rows["NER (5 types)"]
    assert "ours (devel, tiny)" in text.splitlines()[0]
