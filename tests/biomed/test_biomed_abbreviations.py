import pytest
import spacy
from spacy.tokens import Doc, DocBin, Span, SpanGroup

from spacy_biobert.biomed import abbreviation_pairs

TOKENIZER_CFG = {"nlp": {"tokenizer": {"@tokenizers": "spacy-biobert.SciSpacyTokenizer.v1"}}}
TEXT = ("Tumour necrosis factor (TNF) and 5-fluorouracil (5-FU) were studied. 5-FU raised TNF "
        "levels, and 5-FU caused cardiotoxicity.")


@pytest.fixture(scope="module")
def nlp():
    nlp = spacy.blank("en", config=TOKENIZER_CFG)
    nlp.add_pipe("biobert_abbreviation_detector")
    nlp.add_pipe("biobert_abbreviation_propagator")
    return nlp


def _run(nlp, doc: Doc, *, skip=()) -> Doc:
    for name, proc in nlp.pipeline:
        if name not in skip:
            doc = proc(doc)
    return doc


def _ents(doc):
    return [(e.text, e.start_char, e.label_, e.kb_id_) for e in doc.ents]


def test_scispacy_detector_runs_on_a_blank_pipeline_offline():
    # scispaCy's own factory, needing nothing but the tokenizer and no downloads.
    from scispacy.abbreviation import AbbreviationDetector  # noqa: F401  (registers the factory)

    nlp = spacy.blank("en", config=TOKENIZER_CFG)
    nlp.add_pipe("abbreviation_detector")
    doc = nlp(TEXT)
    assert {(a.text, a._.long_form.text) for a in doc._.abbreviations} == {
        ("TNF", "Tumour necrosis factor")
    }


def test_detector_adds_digit_initial_short_forms(nlp):
    doc = nlp(TEXT)
    pairs = [(s.text, s.start_char, lf.text) for s, lf in abbreviation_pairs(doc)]
    assert ("5-FU", TEXT.index("(5-FU)") + 1, "5-fluorouracil") in pairs
    assert sum(1 for s, _, lf in pairs if s == "5-FU") == 3
    assert sum(1 for s, _, lf in pairs if s == "TNF") == 2
    plain = spacy.blank("en", config=TOKENIZER_CFG)
    plain.add_pipe("biobert_abbreviation_detector",
                   config={"digit_initial": False, "make_serializable": False})
    doc = plain(TEXT)
    assert {s.text for s, _ in abbreviation_pairs(doc)} == {"TNF"}
    # scispaCy's Span form when not serialisable.
    assert {(a.text, a._.long_form.text) for a in doc._.abbreviations} == {("TNF", "Tumour necrosis factor")}


def test_detector_on_empty_and_abbreviation_free_docs(nlp):
    assert abbreviation_pairs(nlp("")) == []
    doc = nlp("Naloxone reverses the effect of clonidine.")
    assert abbreviation_pairs(doc) == [] and list(doc.ents) == []


def test_long_form_entity_propagates_to_every_short_form(nlp):
    doc = nlp.make_doc(TEXT)
    doc.ents = [Span(doc, 7, 8, label="Chemical", kb_id="D005472")]  # 5-fluorouracil
    doc = _run(nlp, doc)
    fu = [e for e in _ents(doc) if e[0] == "5-FU"]
    assert len(fu) == 3 and {(lab, kb) for _, _, lab, kb in fu} == {("Chemical", "D005472")}
    assert ("5-fluorouracil", TEXT.index("5-fluorouracil"), "Chemical", "D005472") in _ents(doc)


def test_short_form_entity_propagates_to_long_form_and_other_occurrences(nlp):
    doc = nlp.make_doc(TEXT)
    later = [t.i for t in doc if t.text == "TNF"][-1]
    doc.ents = [Span(doc, later, later + 1, label="Gene", kb_id="7124")]
    doc = _run(nlp, doc)
    assert _ents(doc) == [
        ("Tumour necrosis factor", 0, "Gene", "7124"),
        ("TNF", TEXT.index("TNF"), "Gene", "7124"),
        ("TNF", TEXT.rindex("TNF"), "Gene", "7124"),
    ]


def test_long_form_wins_conflicting_ids_and_no_overlaps_are_added(nlp):
    doc = nlp.make_doc(TEXT)
    fu = [t.i for t in doc if t.text == "5-FU"]
    doc.ents = [
        Span(doc, 7, 8, label="Chemical", kb_id="D005472"),  # 5-fluorouracil
        Span(doc, fu[1], fu[1] + 1, label="Chemical", kb_id="D999999"),  # wrong ID: overwritten
        # An entity covering the last 5-FU ("5-FU caused"): the short form must not be added
        # inside it.
        Span(doc, fu[2], fu[2] + 2, label="Disease", kb_id=""),
    ]
    doc = _run(nlp, doc)
    assert ("5-FU", doc[fu[1]].idx, "Chemical", "D005472") in _ents(doc)
    assert ("5-FU caused", doc[fu[2]].idx, "Disease", "") in _ents(doc)
    assert sum(1 for e in _ents(doc) if e[0] == "5-FU") == 2


def test_spans_group_is_made_consistent_too(nlp):
    doc = nlp.make_doc(TEXT)
    doc.spans["sc"] = SpanGroup(doc, name="sc", spans=[Span(doc, 0, 3, label="Gene", kb_id="7124")])
    doc = _run(nlp, doc)
    assert sorted((s.text, s.start, s.label_, s.kb_id_) for s in doc.spans["sc"]) == sorted(
        [("Tumour necrosis factor", 0, "Gene", "7124")]
        + [("TNF", t.i, "Gene", "7124") for t in doc if t.text == "TNF"]
    )
    # doc.ents had nothing, so it stays empty: the propagator only spreads what is there.
    assert list(doc.ents) == []


def test_long_form_anchor_inside_detected_long_form(nlp):
    text = "Patients with acute renal failure (ARF) were treated. ARF resolved."
    doc = nlp.make_doc(text)
    doc.ents = [Span(doc, 3, 5, label="Disease", kb_id="D058186")]  # "renal failure"
    doc = _run(nlp, doc)
    assert [(e.text, e.kb_id_) for e in doc.ents] == [
        ("renal failure", "D058186"), ("ARF", "D058186"), ("ARF", "D058186")
    ]


def test_serialisable_output_survives_docbin_and_copy(nlp):
    ser = spacy.blank("en", config=TOKENIZER_CFG)
    ser.add_pipe("biobert_abbreviation_detector")  # make_serializable is the default
    doc = ser(TEXT)
    assert {(a["short_text"], a["long_text"]) for a in doc._.abbreviations} == {
        ("TNF", "Tumour necrosis factor"), ("5-FU", "5-fluorouracil")}
    assert len(abbreviation_pairs(doc.copy())) == 5
    db = DocBin(store_user_data=True, docs=[doc])
    restored = list(DocBin().from_bytes(db.to_bytes()).get_docs(ser.vocab))[0]
    assert [(s.text, lf.text) for s, lf in abbreviation_pairs(restored)] == [
        (s.text, lf.text) for s, lf in abbreviation_pairs(doc)
    ]
    assert len(abbreviation_pairs(restored)) == 5


def test_pipeline_with_biomed_components_round_trips(nlp, tmp_path):
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert loaded.pipe_names == ["biobert_abbreviation_detector", "biobert_abbreviation_propagator"]
    assert len(abbreviation_pairs(loaded(TEXT))) == 5
