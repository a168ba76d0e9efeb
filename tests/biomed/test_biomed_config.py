"""The biomedical components assembled from a config, as a training config would use them."""
from pathlib import Path

import spacy
from spacy.tokens import Span
from spacy.util import load_model_from_config
from thinc.api import Config

FIXTURES = Path(__file__).parent.parent / "fixtures" / "biomed"

CONFIG = """
[nlp]
lang = "en"
pipeline = ["biobert_sentencizer", "biobert_abbreviation_detector", "biobert_entity_normalizer", "biobert_abbreviation_propagator"]

[nlp.tokenizer]
@tokenizers = "spacy-biobert.BioTokenizer.v1"

[components]

[components.biobert_sentencizer]
factory = "biobert_sentencizer"

[components.biobert_abbreviation_detector]
factory = "biobert_abbreviation_detector"

[components.biobert_entity_normalizer]
factory = "biobert_entity_normalizer"
fuzzy_threshold = 0.8

[components.biobert_abbreviation_propagator]
factory = "biobert_abbreviation_propagator"

[initialize]

[initialize.components]

[initialize.components.biobert_entity_normalizer]
vocabulary = "VOCAB"
"""


def test_config_pipeline_initializes_runs_and_round_trips(tmp_path):
    cfg = Config().from_str(CONFIG.replace("VOCAB", str(FIXTURES / "vocabulary.tsv")))
    nlp = load_model_from_config(cfg, auto_fill=True, validate=True)
    nlp.initialize()
    text = "Clonidine hydrochloride (CH) lowered blood pressure. Later CH-induced hypotension was seen."
    doc = nlp.make_doc(text)
    assert [t.text for t in doc][10:14] == ["CH", "-", "induced", "hypotension"]
    doc.ents = [Span(doc, 0, 2, label="Chemical"), Span(doc, 13, 14, label="Disease")]
    for _, proc in nlp.pipeline:
        doc = proc(doc)
    assert [(e.text, e.label_, e.kb_id_) for e in doc.ents] == [
        ("Clonidine hydrochloride", "Chemical", "D003000"), ("CH", "Chemical", "D003000"),
        ("CH", "Chemical", "D003000"), ("hypotension", "Disease", "D007022"),
    ]
    assert len(list(doc.sents)) == 2
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert loaded.pipe_names == nlp.pipe_names
    assert loaded.get_pipe("biobert_entity_normalizer").cfg["fuzzy_threshold"] == 0.8
    assert loaded.get_pipe("biobert_entity_normalizer").normalize_mention("Catapres", "Chemical")[0] == "D003000"
    text = loaded.config.to_str()
    assert Config().from_str(text, interpolate=False).to_str() == text
