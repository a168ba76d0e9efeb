"""benchmarks/recipe_re.py: BioBERT's masked-sentence RE recipe — masking, instances, and that its
predictions are scored by the package's relation scorer like the pipeline's own."""
import importlib.util
import sys
from pathlib import Path

import numpy
import pytest
import spacy
from spacy.tokens import Doc, Span
from spacy.training import Example

from spacy_biobert.relations.annotations import Mention, Relation, get_relations, install_extensions, set_relations
from spacy_biobert.relations.candidates import RelationCandidates
from spacy_biobert.relations.scorer import score_relations

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def recipe():
    spec = importlib.util.spec_from_file_location("recipe_re", BENCHMARKS / "recipe_re.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("recipe_re", module)
    spec.loader.exec_module(module)
    install_extensions()
    return module


MASKS = {"CHEMICAL": "@CHEMICAL$", "GENE-Y": "@GENE$", "GENE-N": "@GENE$"}


def make_doc():
    # "Aspirin blocks COX - 2 . Low-dose tamoxifen-ER binding was seen ."
    words = ["Aspirin", "blocks", "COX", "-", "2", ".", "Low", "-", "dose", "tamoxifen", "-", "ER",
             "binding", "was", "seen", "."]
    spaces = [True, True, False, False, False, True, False, False, True, False, False, True,
              True, True, False, False]
    sent_starts = [True] + [False] * 5 + [True] + [False] * 9
    return Doc(spacy.blank("en").vocab, words=words, spaces=spaces, sent_starts=sent_starts)


def test_masks_multitoken_and_head_after_tail(recipe):
    doc = make_doc()
    chem, gene = Span(doc, 0, 1, "CHEMICAL"), Span(doc, 2, 5, "GENE-Y")  # "COX-2": three tokens
    sents = recipe.sentence_index(doc)
    assert recipe.masked_text(doc, chem, gene, MASKS, sents) == "@CHEMICAL$ blocks @GENE$."
    # Head after tail in the text: the same sentence, each mention gets its own type's mask.
    assert recipe.masked_text(doc, gene, chem, MASKS, sents) == "@CHEMICAL$ blocks @GENE$."
    # Only the pair's own sentence is the context.
    chem2, gene2 = Span(doc, 9, 10, "CHEMICAL"), Span(doc, 11, 12, "GENE-N")
    assert recipe.masked_text(doc, chem2, gene2, MASKS, sents) == "Low-dose @CHEMICAL$-@GENE$ binding was seen."
    # Without sentences the whole doc is the context.
    assert recipe.masked_text(doc, chem, gene, MASKS, None).startswith("@CHEMICAL$ blocks @GENE$. Low-dose")


def test_masks_adjacent_and_overlapping(recipe):
    doc = make_doc()
    sents = recipe.sentence_index(doc)
    # Adjacent, no space between: "tamoxifen" + "-ER" side by side.
    a, b = Span(doc, 9, 10, "CHEMICAL"), Span(doc, 10, 12, "GENE-Y")
    assert recipe.masked_text(doc, a, b, MASKS, sents) == "Low-dose @CHEMICAL$@GENE$ binding was seen."
    # Overlapping ("tamoxifen-ER" and "ER binding"): one replacement of the union, masks in text order.
    over_chem, over_gene = Span(doc, 9, 12, "CHEMICAL"), Span(doc, 11, 13, "GENE-N")
    assert recipe.masked_text(doc, over_gene, over_chem, MASKS, sents) == \
        "Low-dose @CHEMICAL$ @GENE$ was seen."
    # A label missing from the table gets @LABEL$.
    assert recipe.mask_for("Species", MASKS) == "@SPECIES$"


def gold_example(doc, relations):
    """An Example whose reference has the doc's ents and the given relations (same tokens)."""
    ref = doc.copy()
    set_relations(ref, relations)
    pred = Doc(doc.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
    return Example(pred, ref)


def test_instances_labels_and_scoring(recipe):
    doc = make_doc()
    doc.ents = [Span(doc, 0, 1, "CHEMICAL"), Span(doc, 2, 5, "GENE-Y"), Span(doc, 9, 10, "CHEMICAL"),
                Span(doc, 11, 12, "GENE-N")]
    m = [Mention.from_span(e) for e in doc.ents]
    gold = [Relation("CPR:4", head=m[0], tail=m[1]), Relation("CPR:3", head=m[2], tail=m[3])]
    eg = gold_example(doc, gold)
    docs = recipe.gold_entity_docs([eg])
    sents = [recipe.sentence_index(docs[0], eg.reference)]
    allowed = recipe.learn_allowed_pairs([eg])
    assert allowed == [("CHEMICAL", "GENE-N"), ("CHEMICAL", "GENE-Y")]
    cands = RelationCandidates(max_sentences=0)
    inst = recipe.make_instances(docs, sents, cands, allowed, MASKS, examples=[eg])
    # Same-sentence CHEMICAL->GENE pairs only: (Aspirin, COX-2) and (tamoxifen, ER).
    assert [(x.head.text, x.tail.text, x.label) for x in inst] == [("Aspirin", "COX-2", "CPR:4"),
                                                                  ("tamoxifen", "ER", "CPR:3")]
    labels = [recipe.NEGATIVE, "CPR:3", "CPR:4"]
    scoring = {"eval_labels": ["CPR:3", "CPR:4", "CPR:5", "CPR:6", "CPR:9"]}
    # Perfect prediction.
    recipe.write_predictions(docs, inst, labels, numpy.asarray([[0.1, 0.1, 0.8], [0.2, 0.7, 0.1]]),
                             concept_level=False)
    assert {(r.head.start, r.tail.start, r.label) for r in get_relations(docs[0])} == {(0, 2, "CPR:4"), (9, 11, "CPR:3")}
    assert all(isinstance(r.score, float) for r in get_relations(docs[0]))
    perfect = score_relations([Example(docs[0], eg.reference)], **scoring)
    assert perfect["rel_micro_f"] == 1.0 and perfect["rel_mention_micro_p"] == 1.0
    # The second pair predicted negative: precision stays 1, recall halves.
    recipe.write_predictions(docs, inst, labels, numpy.asarray([[0.1, 0.1, 0.8], [0.9, 0.05, 0.05]]),
                             concept_level=False)
    missing = score_relations([Example(docs[0], eg.reference)], **scoring)
    assert missing["rel_micro_p"] == 1.0 and missing["rel_micro_r"] == 0.5
    assert missing["rel_micro_f"] == pytest.approx(2 / 3)
    # A wrong label is a false positive and a false negative.
    recipe.write_predictions(docs, inst, labels, numpy.asarray([[0.1, 0.8, 0.1], [0.2, 0.7, 0.1]]),
                             concept_level=False)
    wrong = score_relations([Example(docs[0], eg.reference)], **scoring)
    assert wrong["rel_micro_p"] == 0.5 and wrong["rel_micro_r"] == 0.5


def test_undirected_pairs_and_concept_level(recipe):
    vocab = spacy.blank("en").vocab
    doc = Doc(vocab, words=["Lithium", "caused", "tremor", "and", "lithium", "caused", "ataxia", "."])
    doc.ents = [Span(doc, 0, 1, "Chemical", kb_id="D008094"), Span(doc, 2, 3, "Disease", kb_id="D014202"),
                Span(doc, 4, 5, "Chemical", kb_id="D008094"), Span(doc, 6, 7, "Disease", kb_id="D001259")]
    gold = [Relation("CID", head_id="D008094", tail_id="D014202"),
            Relation("CID", head_id="D008094", tail_id="D001259")]
    eg = gold_example(doc, gold)
    docs = recipe.gold_entity_docs([eg])
    allowed = recipe.learn_allowed_pairs([eg])
    assert allowed == [("Chemical", "Disease")]
    inst = recipe.make_instances(docs, [None], RelationCandidates(max_sentences=0), allowed,
                                 recipe.MASKS["bc5cdr"], examples=[eg])
    # Every chemical-disease mention pair of a gold concept pair is positive (as ours trains).
    assert sorted((x.head.start, x.tail.start, x.label) for x in inst) == \
        [(0, 2, "CID"), (0, 6, "CID"), (4, 2, "CID"), (4, 6, "CID")]
    labels = [recipe.NEGATIVE, "CID"]
    # Only the pairs of the first concept pair predicted: concept-level recall 1/2, precision 1.
    probs = numpy.asarray([[0.1, 0.9] if x.tail.start == 2 else [0.9, 0.1] for x in inst])
    recipe.write_predictions(docs, inst, labels, probs, concept_level=True)
    concepts = [r for r in get_relations(docs[0]) if r.level == "concept"]
    assert [(r.head_id, r.tail_id, r.label) for r in concepts] == [("D008094", "D014202", "CID")]
    scores = score_relations([Example(docs[0], eg.reference)])
    assert scores["rel_micro_p"] == 1.0 and scores["rel_micro_r"] == 0.5
    assert scores["rel_mention_micro_f"] is None  # CID has no mention-level gold
    # DDI-style undirected gold: annotated (second, first) labels the text-order pair.
    ddi = Doc(vocab, words=["Warfarin", "with", "aspirin", "raises", "bleeding", "."])
    ddi.ents = [Span(ddi, 0, 1, "drug"), Span(ddi, 2, 3, "drug")]
    d0, d1 = (Mention.from_span(e) for e in ddi.ents)
    eg2 = gold_example(ddi, [Relation("effect", head=d1, tail=d0)])
    docs2 = recipe.gold_entity_docs([eg2])
    inst2 = recipe.make_instances(docs2, [None], RelationCandidates(max_sentences=0, text_order=True),
                                  [("drug", "drug")], recipe.MASKS["ddi"], examples=[eg2], undirected=True)
    assert [(x.text, x.label) for x in inst2] == [("@DRUG$ with @DRUG$ raises bleeding .", "effect")]
    recipe.write_predictions(docs2, inst2, [recipe.NEGATIVE, "effect"], numpy.asarray([[0.2, 0.8]]),
                             concept_level=False)
    assert score_relations([Example(docs2[0], eg2.reference)], undirected=True)["rel_micro_f"] == 1.0
    assert score_relations([Example(docs2[0], eg2.reference)], undirected=False)["rel_micro_f"] == 0.0


def test_train_and_predict_tiny_bert(recipe, tiny_bert):
    """End to end on a tiny BERT: trains, writes relations of known labels onto the devel docs."""
    doc = make_doc()
    # Both genes GENE-Y, so the learned label pair makes (tamoxifen, ER) a negative candidate.
    doc.ents = [Span(doc, 0, 1, "CHEMICAL"), Span(doc, 2, 5, "GENE-Y"), Span(doc, 9, 10, "CHEMICAL"),
                Span(doc, 11, 12, "GENE-Y")]
    m = [Mention.from_span(e) for e in doc.ents]
    eg = gold_example(doc, [Relation("CPR:4", head=m[0], tail=m[1])])
    dev_docs = recipe.gold_entity_docs([eg])
    out = recipe.train_and_predict(tiny_bert, [eg] * 4, dev_docs, [recipe.sentence_index(dev_docs[0], eg.reference)],
                                   masks=MASKS, text_order=False, undirected=False, concept_level=False,
                                   seed=0, epochs=2, batch_size=4, learn_rate=1e-3)
    assert out["labels"] == [recipe.NEGATIVE, "CPR:4"]
    assert out["train_instances"] == 8 and out["train_positive_instances"] == 4 and out["dev_instances"] == 2
    assert out["steps"] == 4
    assert {r.label for r in get_relations(dev_docs[0])} <= {"CPR:4"}
    scores = score_relations([Example(dev_docs[0], eg.reference)])
    assert 0.0 <= scores["rel_micro_f"] <= 1.0
