from pathlib import Path

import pytest
import spacy

from spacy_biobert.corpora import read_pubtator

DEMO = Path(__file__).resolve().parents[2] / "project" / "assets" / "demo"
# Names the rule-based entities match (all appear in the demo corpus).
CHEMICALS = ["cisplatin", "lithium", "haloperidol", "doxorubicin", "amiodarone", "gentamicin"]
DISEASES = ["nephrotoxicity", "seizures", "cardiotoxicity", "hypotension", "bradycardia", "delirium"]


@pytest.fixture(scope="session")
def rel_pipeline_dir(tmp_path_factory):
    """A small saved pipeline that finds entities and relations deterministically and fast:
    an entity ruler, then an untrained `biobert_relation_extractor` (on a hash-embedding tok2vec)
    with threshold 0, so every Chemical-Disease pair comes out as a scored CID relation, with
    concept IDs from the demo corpus's lexicon."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    nlp.add_pipe("biobert_relation_extractor", config={
        "threshold": 0.0,
        "concept_level": True,
        "model": {
            "@architectures": "spacy-biobert.RelationModel.v1",
            "hidden_width": 16,
            "tok2vec": {
                "@architectures": "spacy.HashEmbedCNN.v2", "width": 32, "depth": 1,
                "embed_size": 500, "window_size": 1, "maxout_pieces": 2,
                "subword_features": True, "pretrained_vectors": None,
            },
        },
    })
    from spacy.training import Example

    examples = [Example(nlp.make_doc(d.text), d) for d in read_pubtator(DEMO / "train.pubtator.txt", nlp)]
    nlp.initialize(lambda: examples)
    # After initialize, which resets the ruler's patterns.
    ruler.add_patterns(
        [{"label": "Chemical", "pattern": [{"LOWER": n}]} for n in CHEMICALS]
        + [{"label": "Disease", "pattern": [{"LOWER": n}]} for n in DISEASES]
    )
    path = tmp_path_factory.mktemp("rel_pipeline") / "model"
    nlp.to_disk(path)
    return path
