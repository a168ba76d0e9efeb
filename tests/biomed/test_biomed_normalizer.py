from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc, Span, SpanGroup
from spacy.training import Example

from spacy_biobert.biomed import ConceptDictionary, canonical_id, normalize_name, read_vocabulary
from spacy_biobert.errors import BioBertError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "biomed"
TOKENIZER_CFG = {"nlp": {"tokenizer": {"@tokenizers": "spacy-biobert.SciSpacyTokenizer.v1"}}}

# (text, [(mention, label, ID)]) gold training documents; mentions are found by text.
TRAIN = [
    ("Naloxone reverses the antihypertensive effect of clonidine.",
     [("Naloxone", "Chemical", "D009270"), ("clonidine", "Chemical", "D003000")]),
    ("Lidocaine caused cardiac asystole in a patient with breast and ovarian cancer.",
     [("Lidocaine", "Chemical", "D008012"), ("cardiac asystole", "Disease", "D006323"),
      ("breast and ovarian cancer", "Disease", "D001943|D010051")]),
    ("5-fluorouracil caused cardiotoxicity; lidocaine caused seizures and renal failure.",
     [("5-fluorouracil", "Chemical", "D005472"), ("cardiotoxicity", "Disease", "D066126"),
      ("lidocaine", "Chemical", "D008012"), ("seizures", "Disease", "D012640"),
      ("renal failure", "Disease", "D051437")]),
    # An unnormalisable mention (-1) is not learned.
    ("Tricyclic overdose.", [("Tricyclic", "Chemical", "-1")]),
]


def _doc(nlp, text, mentions, *, as_spans=False) -> Doc:
    doc = nlp.make_doc(text)
    spans = []
    for mention, label, cid in mentions:
        start = text.index(mention)
        spans.append(doc.char_span(start, start + len(mention), label=label, kb_id=cid))
    if as_spans:
        doc.spans["sc"] = SpanGroup(doc, name="sc", spans=spans)
    else:
        doc.ents = spans
    return doc


def _examples(nlp, *, as_spans=False):
    return [Example(nlp.make_doc(t), _doc(nlp, t, m, as_spans=as_spans)) for t, m in TRAIN]


def _pipeline(**cfg):
    nlp = spacy.blank("en", config=TOKENIZER_CFG)
    nlp.add_pipe("biobert_abbreviation_detector")
    nlp.add_pipe("biobert_entity_normalizer", config=cfg)
    return nlp


def _predict(nlp, text, mentions):
    """Run the pipeline on a doc whose entities (without IDs) are given."""
    doc = _doc(nlp, text, [(m, lab, "") for m, lab in mentions])
    for _, proc in nlp.pipeline:
        doc = proc(doc)
    return [(e.text, e.kb_id_) for e in doc.ents]


@pytest.fixture(scope="module")
def trained():
    nlp = _pipeline()
    nlp.initialize(lambda: _examples(nlp, as_spans=True))
    return nlp


def test_names_normalise_across_case_punctuation_greek_and_plurals():
    assert normalize_name("Non-Hodgkin's Lymphomas") == normalize_name("non hodgkin's lymphoma")
    assert normalize_name("α-synuclein") == normalize_name("Alpha synuclein")
    assert normalize_name("renal failures") == normalize_name("Renal-failure")
    assert normalize_name("seizures") == normalize_name("seizure")
    # "-is"/"-us" words are not plurals.
    assert normalize_name("nephritis") == "nephritis" and normalize_name("virus") == "virus"
    assert normalize_name("(+)") == ""
    assert canonical_id("D010051|D001943") == canonical_id("D001943|D010051") == "D001943|D010051"


def test_not_initialized_error():
    nlp = _pipeline()
    with pytest.raises(BioBertError, match=r"\[E403\]"):
        nlp("Naloxone.")
    with pytest.raises(BioBertError, match=r"\[E403\]"):
        nlp.get_pipe("biobert_entity_normalizer").normalize_mention("Naloxone")


def test_seen_mentions_get_their_training_ids(trained):
    text = "Clonidine and naloxone; lidocaine and breast and ovarian cancer."
    assert _predict(trained, text, [("Clonidine", "Chemical"), ("naloxone", "Chemical"),
                                    ("lidocaine", "Chemical"),
                                    ("breast and ovarian cancer", "Disease")]) == [
        ("Clonidine", "D003000"), ("naloxone", "D009270"), ("lidocaine", "D008012"),
        ("breast and ovarian cancer", "D001943|D010051"),
    ]
    info = trained.get_pipe("biobert_entity_normalizer").info
    assert info["skipped_gold_mentions"] == 1  # the -1 mention


def test_unseen_variants_by_normalised_and_fuzzy_matching(trained):
    norm = trained.get_pipe("biobert_entity_normalizer")
    assert norm.normalize_mention("Renal-failures", "Disease") == ("D051437", "normalised", 1.0)
    cid, method, score = norm.normalize_mention("cardiotoxicities", "Disease")
    assert (cid, method) == ("D066126", "normalised")
    cid, method, score = norm.normalize_mention("cardiac asystolia", "Disease")
    assert (cid, method) == ("D006323", "fuzzy") and 0.7 <= score < 1.0
    # Nothing close: no ID rather than a wrong one.
    assert norm.normalize_mention("hepatitis", "Disease") is None
    # Labels are respected: a Chemical name does not normalise a Disease mention.
    assert norm.normalize_mention("lidocaine", "Disease") is None
    assert norm.normalize_mention("lidocaine", "Chemical")[0] == "D008012"


def test_abbreviated_mentions_are_expanded(trained):
    text = "5-fluorouracil (5-FU) and renal failure (RF) were seen; 5-FU worsened RF."
    assert _predict(trained, text, [("5-FU", "Chemical"), ("RF", "Disease")]) == [
        ("5-FU", "D005472"), ("RF", "D051437")
    ]
    # Without the expansion the short forms are unknown.
    plain = _pipeline(use_abbreviations=False)
    plain.initialize(lambda: _examples(plain))
    assert _predict(plain, text, [("5-FU", "Chemical"), ("RF", "Disease")]) == [
        ("5-FU", ""), ("RF", "")
    ]


def test_existing_ids_kept_unless_overwrite(trained):
    doc = trained.make_doc("Clonidine was given.")
    doc.ents = [Span(doc, 0, 1, label="Chemical", kb_id="MY:1")]
    assert trained.get_pipe("biobert_entity_normalizer")(doc).ents[0].kb_id_ == "MY:1"
    over = _pipeline(overwrite=True)
    over.initialize(lambda: _examples(over))
    doc = over.make_doc("Clonidine was given.")
    doc.ents = [Span(doc, 0, 1, label="Chemical", kb_id="MY:1")]
    assert over.get_pipe("biobert_entity_normalizer")(doc).ents[0].kb_id_ == "D003000"


def test_span_group_is_normalised_when_configured():
    nlp = _pipeline(spans_key="sc")
    nlp.initialize(lambda: _examples(nlp))
    doc = _doc(nlp, "Seizures after naloxone.", [("Seizures", "Disease", ""), ("naloxone", "Chemical", "")],
               as_spans=True)
    doc = nlp.get_pipe("biobert_entity_normalizer")(doc)
    assert [(s.text, s.kb_id_) for s in doc.spans["sc"]] == [("Seizures", "D012640"), ("naloxone", "D009270")]


def test_vocabulary_file_extends_the_dictionary(tmp_path):
    nlp = _pipeline()
    nlp.initialize(lambda: [])  # no gold names at all
    norm = nlp.get_pipe("biobert_entity_normalizer")
    assert len(norm.dictionary) == 0
    assert norm.normalize_mention("Catapres", "Chemical") is None
    norm.initialize(lambda: _examples(nlp), vocabulary=FIXTURES / "vocabulary.tsv")
    assert norm.info["vocabulary_concepts"] == 3
    # Vocabulary names are label-free, so they serve every label.
    assert norm.normalize_mention("Catapres", "Chemical")[0] == "D003000"
    assert norm.normalize_mention("low blood pressure", "Disease")[0] == "D007022"
    assert norm.normalize_mention("Lidocaine", "Chemical")[0] == "D008012"  # still from training


def test_vocabulary_only_through_initialize_config(tmp_path):
    nlp = _pipeline()
    nlp.config["initialize"]["components"]["biobert_entity_normalizer"] = {
        "vocabulary": str(FIXTURES / "vocabulary.tsv"), "learn_from_examples": False,
    }
    nlp.initialize(lambda: _examples(nlp))
    norm = nlp.get_pipe("biobert_entity_normalizer")
    assert norm.normalize_mention("hypotensive", "Disease")[0] == "D007022"
    assert norm.normalize_mention("Lidocaine", "Chemical") is None


def test_empty_vocabularies():
    vocab, n = read_vocabulary(FIXTURES / "vocabulary_empty.tsv")
    assert n == 0 and len(vocab) == 0
    empty = ConceptDictionary()
    assert empty.lookup("clonidine", "Chemical") is None
    nlp = _pipeline()
    nlp.initialize(lambda: [])
    doc = _doc(nlp, "Clonidine.", [("Clonidine", "Chemical", "")])
    assert nlp.get_pipe("biobert_entity_normalizer")(doc).ents[0].kb_id_ == ""
    assert nlp.get_pipe("biobert_entity_normalizer")(nlp.make_doc("")).ents == ()


def test_malformed_vocabulary_names_file_and_line():
    path = FIXTURES / "vocabulary_malformed.tsv"
    with pytest.raises(BioBertError, match=r"\[E402\].*vocabulary_malformed\.tsv:2: 1 tab-separated"):
        read_vocabulary(path)
    nlp = _pipeline()
    nlp.config["initialize"]["components"]["biobert_entity_normalizer"] = {"vocabulary": str(path)}
    with pytest.raises(BioBertError, match=r"\[E402\].*:2:"):
        nlp.initialize(lambda: [])
    with pytest.raises(BioBertError, match=r"\[E401\]"):
        read_vocabulary(FIXTURES / "missing.tsv")


def test_bad_settings():
    with pytest.raises(BioBertError, match=r"\[E405\].*fuzzy_threshold"):
        _pipeline(fuzzy_threshold=1.5)


def test_round_trip_keeps_dictionary_and_predictions(trained, tmp_path):
    text = "Naloxone and 5-fluorouracil (5-FU) caused cardiac asystolia and renal failures."
    mentions = [("Naloxone", "Chemical"), ("5-FU", "Chemical"), ("cardiac asystolia", "Disease"),
                ("renal failures", "Disease")]
    expected = _predict(trained, text, mentions)
    assert [cid for _, cid in expected] == ["D009270", "D005472", "D006323", "D051437"]
    trained.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert _predict(loaded, text, mentions) == expected
    norm = trained.get_pipe("biobert_entity_normalizer")
    copy = _pipeline().get_pipe("biobert_entity_normalizer").from_bytes(norm.to_bytes())
    assert copy.normalize_mention("renal failures", "Disease")[0] == "D051437"
    assert copy.info == norm.info


def test_linker_unknown_name_and_offline_knowledge_base(monkeypatch):
    with pytest.raises(BioBertError, match=r"\[E405\].*linker_name"):
        _pipeline(linker_name="nope").initialize(lambda: [])
    import requests
    import scispacy.file_cache

    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError("Failed to resolve 'ai2-s2-scispacy.s3-us-west-2.amazonaws.com'")

    # Simulate a machine without network and without the scispaCy cache.
    monkeypatch.setattr(scispacy.file_cache.requests, "head", offline)
    monkeypatch.setattr(scispacy.file_cache.requests, "get", offline)
    monkeypatch.setattr(scispacy.file_cache.os.path, "exists", lambda p: False)
    nlp = _pipeline(linker_name="mesh")
    with pytest.raises(BioBertError, match=r"\[E404\] scispaCy's 'mesh' linker.*Failed to resolve.*linker_name = null"):
        nlp.initialize(lambda: [])
