import json

import pytest

from spacy_biobert.packaging import CORPORA, build_meta, write_meta

METRICS = {"token_acc": 1.0, "ents_f": 0.91, "ents_p": 0.9, "ents_r": 0.92, "rel_micro_f": 0.55,
           "rel_f_per_type": {"CID": {"p": 0.5, "r": 0.6, "f": 0.55}}, "speed": 123.0}


def test_meta_carries_accuracy_and_licence(tmp_path):
    metrics = tmp_path / "m.json"
    metrics.write_text(json.dumps(METRICS))
    meta = write_meta("bc5cdr", metrics, tmp_path / "meta.json", version="1.2.3",
                      transformer="dmis-lab/biobert-base-cased-v1.2")
    assert json.loads((tmp_path / "meta.json").read_text()) == meta
    assert meta["version"] == "1.2.3"
    assert meta["performance"]["ents_f"] == pytest.approx(0.91)
    assert meta["performance"]["rel_f_per_type"]["CID"]["f"] == 0.55
    assert "speed" not in meta["performance"]
    assert meta["sources"][0]["name"].startswith("BioCreative V CDR")
    assert "devel" in meta["description"] and "biobert-base-cased" in meta["description"]
    # No hand-kept requirement list: spacy package infers it from the config.
    assert "requirements" not in meta


def test_ddi_is_non_commercial():
    meta = build_meta("ddi", METRICS, version="0.1.0")
    assert meta["license"] == "CC BY-NC 4.0"
    assert "NON-COMMERCIAL" in meta["description"] and "NON-COMMERCIAL" in meta["sources"][0]["license"]
    assert meta["spacy_biobert"]["commercial_use"] is False


def test_every_project_pipeline_has_corpus_info():
    for name in ("demo", "bc5cdr", "chemprot", "ddi", "ncbi_disease", "jnlpba"):
        info = CORPORA[name]
        assert info["license"] and info["pipeline_license"] and info["name"]
