"""The relation pipelines' configs in project/configs load, fill and round-trip, and build a
pipeline whose relation extractor has the task's settings."""
from pathlib import Path

import pytest
import spacy
from thinc.api import Config

CONFIGS = Path(__file__).resolve().parents[2] / "project" / "configs"


@pytest.mark.parametrize(
    "name,concept_level,text_order,eval_labels",
    [("bc5cdr", True, False, None), ("chemprot", False, False, ["CPR:3", "CPR:4", "CPR:5", "CPR:6", "CPR:9"]),
     ("ddi", False, True, None)],
)
def test_relation_config_loads(name, concept_level, text_order, eval_labels, tiny_bert):
    config = Config().from_disk(CONFIGS / f"{name}.cfg", overrides={"paths.transformer": tiny_bert})
    assert Config().from_str(config.to_str()) == config
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    # Relations come last, after ner (and, for BC5CDR, the abbreviation and normalisation steps).
    assert nlp.pipe_names[-1] == "biobert_relation_extractor"
    assert "ner" in nlp.pipe_names[:-1]
    rel = nlp.get_pipe("biobert_relation_extractor")
    assert rel.cfg["concept_level"] is concept_level
    assert rel.candidates.text_order is text_order
    filled = nlp.config
    assert Config().from_str(filled.to_str()) == filled
    assert filled["components"]["biobert_relation_extractor"]["scorer"]["eval_labels"] == eval_labels
    assert filled["training"]["score_weights"]["rel_micro_f"] > 0
    # Users get BioBERT unless they override the encoder.
    default = Config().from_disk(CONFIGS / f"{name}.cfg", interpolate=False)
    assert default["paths"]["transformer"] == "dmis-lab/biobert-base-cased-v1.2"
