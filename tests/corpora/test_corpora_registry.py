"""Registered readers: resolvable by name, usable from a training config, entry points declared."""
import io
from pathlib import Path

import pytest
import spacy
from spacy.util import registry
from thinc.api import Config

import spacy_biobert  # noqa: F401
from spacy_biobert.corpora import CorpusError
from spacy_biobert.registrations import entry_point_names

FIX = Path(__file__).parent.parent / "fixtures" / "corpora"
READERS = {
    "spacy-biobert.PubTatorCorpus.v1": (FIX / "pubtator" / "mini.pubtator", 2, 4),
    "spacy-biobert.NCBIDiseaseCorpus.v1": (FIX / "ncbi" / "mini_ncbi.txt", 1, 0),
    "spacy-biobert.BioCCorpus.v1": (FIX / "bioc" / "mini.bioc.xml", 2, 3),
    "spacy-biobert.IOBCorpus.v1": (FIX / "iob" / "jnlpba_like.iob2", 3, 0),
    "spacy-biobert.ChemProtCorpus.v1": (FIX / "chemprot" / "mini_split", 2, 6),
    "spacy-biobert.DDICorpus.v1": (FIX / "ddi", 2, 4),
}


@pytest.mark.parametrize("name", sorted(READERS))
def test_registered_reader_yields_examples(name):
    path, n_docs, n_rels = READERS[name]
    nlp = spacy.blank("en")
    corpus = registry.resolve({"c": {"@readers": name, "path": str(path)}})["c"]
    examples = list(corpus(nlp))
    assert len(examples) == n_docs
    for eg in examples:
        assert eg.predicted.text == eg.reference.text
        assert len(eg.predicted.ents) == 0 and eg.reference.has_annotation("SENT_START")
        # The reference was tokenized by nlp's tokenizer (split only at mention edges), so every
        # gold entity lines up with the predicted tokens here.
        aligned = eg.get_aligned_spans_y2x(eg.reference.ents)
        assert [(s.start_char, s.end_char) for s in aligned] == [
            (e.start_char, e.end_char) for e in eg.reference.ents]
    assert sum(len(eg.reference._.relations) for eg in examples) == n_rels
    assert name in entry_point_names().get("spacy_readers", set())


def test_limit_and_sentence_groups():
    nlp = spacy.blank("en")
    path = str(FIX / "pubtator" / "mini.pubtator")
    corpus = registry.resolve({"c": {"@readers": "spacy-biobert.PubTatorCorpus.v1", "path": path,
                                     "limit": 1, "max_sentences": 2}})["c"]
    examples = list(corpus(nlp))
    whole = list(registry.resolve({"c": {"@readers": "spacy-biobert.PubTatorCorpus.v1", "path": path,
                                         "limit": 1}})["c"](nlp))
    assert len(whole) == 1 and len(examples) == 2  # 4 sentences in groups of 2
    assert "".join(eg.reference.text for eg in examples) == whole[0].reference.text
    assert sum(len(eg.reference.spans["sc"]) for eg in examples) == 9
    with pytest.raises(CorpusError, match=r"\[E112\].*max_sentences=0"):
        registry.resolve({"c": {"@readers": "spacy-biobert.PubTatorCorpus.v1", "path": path,
                                "max_sentences": 0}})


CONFIG = """
[paths]
train = null
dev = null

[system]
seed = 0
gpu_allocator = null

[nlp]
lang = "en"
pipeline = ["tok2vec","ner"]
batch_size = 8

[components]

[components.tok2vec]
factory = "tok2vec"

[components.tok2vec.model]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 16
depth = 1
embed_size = 200
window_size = 1
maxout_pieces = 2
subword_features = true

[components.ner]
factory = "ner"

[components.ner.model]
@architectures = "spacy.TransitionBasedParser.v2"
state_type = "ner"
extra_state_tokens = false
hidden_width = 16
maxout_pieces = 2
use_upper = true
nO = null

[components.ner.model.tok2vec]
@architectures = "spacy.Tok2VecListener.v1"
width = 16
upstream = "*"

[corpora]

[corpora.train]
@readers = "spacy-biobert.PubTatorCorpus.v1"
path = ${paths.train}
max_sentences = 2

[corpora.dev]
@readers = "spacy-biobert.PubTatorCorpus.v1"
path = ${paths.dev}

[training]
dev_corpus = "corpora.dev"
train_corpus = "corpora.train"
max_steps = 6
eval_frequency = 3
seed = ${system.seed}
gpu_allocator = ${system.gpu_allocator}

[training.optimizer]
@optimizers = "Adam.v1"
learn_rate = 0.01

[training.batcher]
@batchers = "spacy.batch_by_words.v1"
size = 200
tolerance = 0.2

[initialize]
"""


def test_config_trains_from_raw_pubtator(tmp_path):
    """A training config reads raw PubTator through the registered reader and trains."""
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import train

    path = str(FIX / "pubtator" / "mini.pubtator")
    config = Config().from_str(CONFIG, overrides={"paths.train": path, "paths.dev": path})
    nlp = init_nlp(config)
    assert set(nlp.get_pipe("ner").labels) == {
        "Chemical", "ChemicalEntity", "Disease", "DiseaseOrPhenotypicFeature", "GeneOrGeneProduct",
        "OrganismTaxon", "SequenceVariant"}
    (tmp_path / "out").mkdir()
    nlp, _ = train(nlp, tmp_path / "out", stdout=io.StringIO())
    assert (tmp_path / "out" / "model-last" / "config.cfg").exists()
    assert "ents_f" in nlp.evaluate(list(registry.resolve(
        {"c": {"@readers": "spacy-biobert.PubTatorCorpus.v1", "path": path}})["c"](nlp)))
