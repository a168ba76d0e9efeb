"""The relation scorer against hand-computed figures, and the candidate generator's limits."""
import pytest
import spacy
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import registry

from spacy_biobert.relations import Mention, Relation
from spacy_biobert.relations.candidates import make_relation_candidates
from spacy_biobert.relations.scorer import score_relations

WORDS = "Aspirin and warfarin increase bleeding and reduce IL - 6 in mice .".split()
#         0        1    2        3        4        5   6      7  8 9  10 11  12


def m(start, end, label, kb_id=""):
    return Mention(start, end, label, kb_id)


def example(gold, pred, *, ref_words=None):
    nlp = spacy.blank("en")
    ref = Doc(nlp.vocab, words=ref_words or WORDS)
    ref._.relations = gold
    doc = Doc(nlp.vocab, words=WORDS)
    doc._.relations = pred
    return Example(doc, ref)


ASP, WAR, BLEED, IL6 = m(0, 1, "Chemical", "C1"), m(2, 3, "Chemical", "C2"), m(4, 5, "Disease", "D1"), m(7, 10, "Gene", "G1")


def test_mention_level_hand_computed():
    # Gold: 3 relations. Predicted: 2 correct, 1 wrong label, 1 spurious pair.
    gold = [Relation("CPR:4", head=ASP, tail=IL6), Relation("CPR:3", head=WAR, tail=IL6),
            Relation("CPR:9", head=ASP, tail=BLEED)]
    pred = [Relation("CPR:4", head=ASP, tail=IL6, score=0.9), Relation("CPR:3", head=WAR, tail=IL6, score=0.8),
            Relation("CPR:4", head=ASP, tail=BLEED, score=0.7), Relation("CPR:5", head=WAR, tail=BLEED, score=0.6)]
    scores = score_relations([example(gold, pred)])
    # tp=2, fp=2, fn=1 -> p=0.5, r=2/3, f=4/7
    assert scores["rel_micro_p"] == pytest.approx(0.5)
    assert scores["rel_micro_r"] == pytest.approx(2 / 3)
    assert scores["rel_micro_f"] == pytest.approx(4 / 7)
    assert scores["rel_mention_micro_f"] == scores["rel_micro_f"]
    per = scores["rel_f_per_type"]
    assert per["CPR:4"] == {"p": 0.5, "r": 1.0, "f": pytest.approx(2 / 3)}
    assert per["CPR:9"]["r"] == 0.0 and per["CPR:5"]["p"] == 0.0
    assert all(type(v) is float for v in per["CPR:4"].values())
    # ChemProt's official micro-F counts only CPR:3,4,5,6,9: restricting to CPR:4 alone:
    only4 = score_relations([example(gold, pred)], eval_labels=["CPR:4"])
    # tp=1, fp=1, fn=0
    assert only4["rel_micro_p"] == 0.5 and only4["rel_micro_r"] == 1.0
    assert set(only4["rel_f_per_type"]) == {"CPR:4"}


def test_concept_level_hand_computed_cid():
    # BC5CDR CID: document-level (chemical ID, disease ID) pairs; mention pairs collapse.
    gold = [Relation("CID", head_id="C1", tail_id="D1"), Relation("CID", head_id="C2", tail_id="D1")]
    pred = [Relation("CID", head=ASP, tail=BLEED, score=0.9),
            Relation("CID", head=m(0, 1, "Chemical", "C1"), tail=m(4, 5, "Disease", "D1"), score=0.6),
            Relation("CID", head=m(7, 10, "Chemical", "C3"), tail=BLEED, score=0.7)]
    scores = score_relations([example(gold, pred), example(gold, [])])
    # doc 1: tp=1 (C1,D1), fp=1 (C3,D1), fn=1 (C2,D1); doc 2: fn=2 -> p=1/2, r=1/4, f=1/3
    assert scores["rel_mention_micro_f"] is None
    assert scores["rel_concept_micro_p"] == pytest.approx(0.5)
    assert scores["rel_concept_micro_r"] == pytest.approx(0.25)
    assert scores["rel_concept_micro_f"] == pytest.approx(1 / 3)
    assert scores["rel_micro_f"] == scores["rel_concept_micro_f"]


def test_composite_ids_and_undirected():
    gold = [Relation("CID", head_id="C1", tail_id="D1"), Relation("CID", head_id="C1", tail_id="D2")]
    pred = [Relation("CID", head_id="C1", tail_id="D1|D2|-1")]
    assert score_relations([example(gold, pred)])["rel_concept_micro_f"] == 1.0
    # DDI: pairs are unordered.
    gold = [Relation("effect", head=ASP, tail=WAR)]
    pred = [Relation("effect", head=WAR, tail=ASP)]
    assert score_relations([example(gold, pred)])["rel_micro_f"] == 0.0
    assert score_relations([example(gold, pred)], undirected=True)["rel_micro_f"] == 1.0
    scorer = registry.scorers.get("spacy-biobert.relation_scorer.v1")(undirected=True)
    assert scorer([example(gold, pred)], labels=["x"], threshold=0.5)["rel_micro_f"] == 1.0


def test_reference_tokenized_differently():
    # The reference splits "IL-6" into three tokens, the predicted doc keeps one: mentions are
    # compared by characters on the predicted tokens.
    nlp = spacy.blank("en")
    ref = Doc(nlp.vocab, words=["Aspirin", "reduces", "IL", "-", "6", "."],
              spaces=[True, True, False, False, True, False])
    pred = Doc(nlp.vocab, words=["Aspirin", "reduces", "IL-6", "."], spaces=[True, True, True, False])
    assert ref.text == pred.text
    ref._.relations = [Relation("CPR:4", head=m(0, 1, "Chemical"), tail=m(2, 5, "Gene"))]
    pred._.relations = [Relation("CPR:4", head=m(0, 1, "Chemical"), tail=m(2, 3, "Gene"))]
    assert score_relations([Example(pred, ref)])["rel_micro_f"] == 1.0
    pred._.relations = [Relation("CPR:4", head=m(0, 2, "Chemical"), tail=m(2, 3, "Gene"))]
    assert score_relations([Example(pred, ref)])["rel_micro_f"] == 0.0


def test_no_relations_anywhere():
    scores = score_relations([example([], [])])
    assert scores["rel_micro_f"] == 0.0
    assert scores["rel_concept_micro_f"] is None


def doc_with(n_sent=3):
    nlp = spacy.blank("en")
    words = "Aspirin causes bleeding . Warfarin causes pain . Heparin is safe .".split()[: 4 * n_sent]
    doc = Doc(nlp.vocab, words=words, sent_starts=[i % 4 == 0 for i in range(len(words))])
    doc.ents = [Span(doc, 0, 1, "Chemical"), Span(doc, 2, 3, "Disease"), Span(doc, 4, 5, "Chemical"),
                Span(doc, 6, 7, "Disease")]
    return doc


def test_candidates_limits():
    doc = doc_with()
    ents = list(doc.ents)
    allowed = [("Chemical", "Disease")]
    every = make_relation_candidates()(doc, ents, allowed)
    assert [(h.start, t.start) for h, t in every] == [(0, 2), (0, 6), (4, 2), (4, 6)]
    same_sentence = make_relation_candidates(max_sentences=0)(doc, ents, allowed)
    assert [(h.start, t.start) for h, t in same_sentence] == [(0, 2), (4, 6)]
    near = make_relation_candidates(max_tokens=1)(doc, ents, allowed)
    assert [(h.start, t.start) for h, t in near] == [(0, 2), (4, 2), (4, 6)]
    # Over the cap the nearest pairs stay (gap 1), the far one (gap 5) goes.
    capped = make_relation_candidates(max_pairs=3)(doc, ents, allowed)
    assert [(h.start, t.start) for h, t in capped] == [(0, 2), (4, 2), (4, 6)]
    ordered = make_relation_candidates(text_order=True)(doc, ents, None)
    assert all(h.start < t.start for h, t in ordered) and len(ordered) == 6
    fixed = make_relation_candidates(allowed_pairs=[["Disease", "Chemical"]])(doc, ents, allowed)
    assert [(h.start, t.start) for h, t in fixed] == [(2, 0), (2, 4), (6, 0), (6, 4)]
    assert make_relation_candidates()(doc, ents[:1], allowed) == []
