"""biobert_token_ner: BioBERT-style token-classification NER."""
import pytest
import spacy
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import fix_random_seed

from spacy_biobert.token_ner import gold_iob

TRAIN = [
    ("Cisplatin induced nephrotoxicity in rats .", [(0, 9, "Chemical"), (18, 32, "Disease")]),
    ("Lithium caused severe seizures in patients .", [(0, 7, "Chemical"), (15, 30, "Disease")]),
    ("Naloxone reversed hypotension .", [(0, 8, "Chemical"), (18, 29, "Disease")]),
]


def _examples(nlp):
    return [Example.from_dict(nlp.make_doc(t), {"entities": ents}) for t, ents in TRAIN]


def test_gold_iob_from_entities_and_missing():
    nlp = spacy.blank("en")
    eg = _examples(nlp)[1]
    assert gold_iob(eg) == ["B-Chemical", "O", "B-Disease", "I-Disease", "O", "O", "O"]
    partial = Example(nlp.make_doc("aspirin helps"), Doc(nlp.vocab, words=["aspirin", "helps"], ents=["B-Chemical", None]))
    assert gold_iob(partial) == ["B-Chemical", None]


def test_not_initialized():
    nlp = spacy.blank("en")
    nlp.add_pipe("biobert_token_ner")
    with pytest.raises(ValueError):
        nlp("aspirin")


def test_decode_follows_conlleval():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("biobert_token_ner")
    for label in ["O", "B-Dis", "I-Dis", "B-Chem"]:
        ner.add_label(label)
    doc = nlp.make_doc("a b c d")
    ids = [ner.labels.index(t) for t in ["I-Dis", "I-Dis", "O", "B-Chem"]]
    ner.set_annotations([doc], [ids])
    assert [(e.start, e.end, e.label_) for e in doc.ents] == [(0, 2, "Dis"), (3, 4, "Chem")]


def test_overfit_save_load(tmp_path):
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("biobert_token_ner")
    examples = _examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(60):
        nlp.update(examples, sgd=optimizer)
    ents = [(e.text, e.label_) for e in nlp(TRAIN[0][0]).ents]
    assert ents == [("Cisplatin", "Chemical"), ("nephrotoxicity", "Disease")]
    scores = nlp.evaluate(examples)
    assert scores["ents_f"] == 1.0
    nlp.to_disk(tmp_path / "m")
    loaded = spacy.load(tmp_path / "m")
    assert [(e.text, e.label_) for e in loaded(TRAIN[0][0]).ents] == ents
    assert loaded.get_pipe("biobert_token_ner").labels == nlp.get_pipe("biobert_token_ner").labels
    # empty doc
    assert list(loaded("").ents) == []


def test_output_layer_starts_random_not_zero():
    # spaCy's Tagger.v2 starts at zero weights, which blocks the gradient to a fine-tuned encoder
    nlp = spacy.blank("en")
    nlp.add_pipe("biobert_token_ner")
    nlp.initialize(lambda: _examples(nlp))
    W = nlp.get_pipe("biobert_token_ner").model.get_ref("softmax").get_param("W")
    assert 0.01 < float(W.std()) < 0.04


def test_with_transformer_listener_first_wordpiece(tiny_trf_config):
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config=tiny_trf_config)
    nlp.add_pipe("biobert_token_ner", name="ner", config={"model": {
        "@architectures": "spacy-biobert.TokenClassifier.v1", "nO": None, "init_std": 0.02,
        "tok2vec": {"@architectures": "spacy-transformers.TransformerListener.v1", "grad_factor": 1.0,
                    "upstream": "*", "pooling": {"@layers": "reduce_first.v1"}}}})
    examples = _examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    losses = {}
    for _ in range(3):
        nlp.update(examples, sgd=optimizer, losses=losses)
    assert losses["ner"] > 0 and losses["transformer"] > 0  # the encoder gets a gradient from the start
    doc = nlp(TRAIN[0][0])
    assert all(t.ent_iob_ in ("B", "I", "O") for t in doc)
