"""The relation extractor in spaCy's canon: not-initialised error, empty and tiny docs, overfitting,
serialization (to_disk + spacy.load in a fresh process, to_bytes/from_bytes, DocBin), bounded
candidates on a long document, plain float scores, reference tokenization that differs from the
predicted doc's, and the transformer listener."""
import json
import subprocess
import sys
import tracemalloc

import numpy
import pytest
import spacy
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example
from thinc.api import fix_random_seed

from spacy_biobert.errors import BioBertError
from spacy_biobert.relations import Mention, Relation, concept_relations

TOK2VEC = {
    "@architectures": "spacy.HashEmbedCNN.v2",
    "pretrained_vectors": None,
    "width": 32,
    "depth": 1,
    "embed_size": 500,
    "window_size": 1,
    "maxout_pieces": 2,
    "subword_features": True,
}

# (text, [(start_char, end_char, label, kb_id)], [(head index, tail index, label)])
DATA = [
    ("Cisplatin induced nephrotoxicity in rats .",
     [(0, 9, "Chemical", "D002945"), (18, 32, "Disease", "D007674")], [(0, 1, "CID")]),
    ("Lithium did not cause seizures , but aspirin caused hypotension .",
     [(0, 7, "Chemical", "D008094"), (22, 30, "Disease", "D012640"),
      (37, 44, "Chemical", "D001241"), (52, 63, "Disease", "D007022")], [(2, 3, "CID")]),
    ("Naloxone reversed hypotension caused by clonidine .",
     [(0, 8, "Chemical", "D009270"), (18, 29, "Disease", "D007022"), (40, 49, "Chemical", "D003000")],
     [(2, 1, "CID")]),
    ("Morphine treatment was not associated with arrhythmia .",
     [(0, 8, "Chemical", "D009020"), (43, 53, "Disease", "D001145")], []),
]


def make_example(nlp, text, ents, rels, *, split_ref_at=None):
    """An Example whose reference carries entities and mention-level relations. `split_ref_at`
    tokenizes the reference differently from the predicted doc (as the corpus readers do)."""
    pred = nlp.make_doc(text)
    if split_ref_at is None:
        ref = nlp.make_doc(text)
    else:
        words, spaces = [], []
        for token in nlp.make_doc(text):
            if token.text == split_ref_at[0]:
                cut = split_ref_at[1]
                words += [token.text[:cut], token.text[cut:]]
                spaces += [False, bool(token.whitespace_)]
            else:
                words.append(token.text)
                spaces.append(bool(token.whitespace_))
        ref = Doc(nlp.vocab, words=words, spaces=spaces)
    spans = [ref.char_span(s, e, label=lab, kb_id=kb) for s, e, lab, kb in ents]
    assert all(span is not None for span in spans)
    ref.ents = spans
    ref._.relations = [
        Relation(label, head=Mention.from_span(spans[h]), tail=Mention.from_span(spans[t]))
        for h, t, label in rels
    ]
    return Example(pred, ref)


def with_gold_ents(nlp, example):
    """The predicted doc of `example` with the reference entities projected onto it."""
    doc = nlp.make_doc(example.reference.text)
    doc.ents = [doc.char_span(e.start_char, e.end_char, label=e.label_, kb_id=e.kb_id_,
                              alignment_mode="expand") for e in example.reference.ents]
    return doc


def rel_nlp(**config):
    nlp = spacy.blank("en")
    cfg = {"model": {"@architectures": "spacy-biobert.RelationModel.v1", "hidden_width": 32,
                     "tok2vec": TOK2VEC}}
    cfg.update(config)
    nlp.add_pipe("biobert_relation_extractor", config=cfg)
    return nlp


def train(nlp, examples, n_iter=60):
    fix_random_seed(0)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(n_iter):
        losses = {}
        nlp.update(examples, sgd=optimizer, losses=losses)
    return losses


@pytest.fixture(scope="module")
def trained():
    """A tok2vec relation extractor overfitted on DATA (one reference tokenized differently)."""
    nlp = rel_nlp()
    examples = [make_example(nlp, *row) for row in DATA[1:]]
    examples.insert(0, make_example(nlp, *DATA[0], split_ref_at=("nephrotoxicity", 7)))
    losses = train(nlp, examples)
    return nlp, examples, losses


def predict(nlp, examples):
    docs = [nlp(with_gold_ents(nlp, eg)) for eg in examples]
    return docs


def test_not_initialized_raises():
    nlp = rel_nlp()
    doc = nlp.make_doc("Cisplatin induced nephrotoxicity .")
    doc.ents = [Span(doc, 0, 1, "Chemical"), Span(doc, 2, 3, "Disease")]
    with pytest.raises(BioBertError, match=r"\[E201\]"):
        nlp(doc)


def test_initialize_without_relations_raises():
    nlp = rel_nlp()
    examples = [make_example(nlp, DATA[3][0], DATA[3][1], [])]
    with pytest.raises(BioBertError, match=r"\[E202\]"):
        nlp.initialize(lambda: examples)


def test_invalid_candidate_setting_raises():
    with pytest.raises(BioBertError, match=r"\[E203\]"):
        rel_nlp(candidates={"@misc": "spacy-biobert.relation_candidates.v1", "max_pairs": 0})


def test_learns_labels_and_allowed_pairs(trained):
    nlp, _, _ = trained
    rel = nlp.get_pipe("biobert_relation_extractor")
    assert rel.labels == ("CID",)
    assert rel.cfg["allowed_pairs"] == [["Chemical", "Disease"]]


def test_overfit_perfect_scores(trained):
    nlp, examples, losses = trained
    assert losses["biobert_relation_extractor"] < 0.05
    docs = predict(nlp, examples)
    scored = [Example(doc, eg.reference) for doc, eg in zip(docs, examples)]
    scores = nlp.get_pipe("biobert_relation_extractor").score(scored)
    assert scores["rel_micro_p"] == 1.0
    assert scores["rel_micro_r"] == 1.0
    assert scores["rel_micro_f"] == 1.0
    assert scores["rel_f_per_type"]["CID"]["f"] == 1.0
    # The reference of the first example is split inside "nephrotoxicity": mapped by characters.
    first = docs[0]._.relations
    assert [(r.head.start, r.head.end, r.tail.start, r.tail.end) for r in first] == [(0, 1, 2, 3)]
    # nlp.evaluate on gold entities reports the same figures.
    gold_examples = [Example(with_gold_ents(nlp, eg), eg.reference) for eg in examples]
    assert nlp.evaluate(gold_examples)["rel_micro_f"] == 1.0


def test_scores_are_python_floats(trained):
    nlp, examples, _ = trained
    for doc in predict(nlp, examples):
        for rel in doc._.relations:
            assert type(rel.score) is float
            assert 0.5 <= rel.score <= 1.0
        for data in doc.user_data["spacy_biobert.relations"]:
            assert type(data["score"]) is float


def test_empty_and_tiny_docs(trained):
    nlp, _, _ = trained
    assert nlp("")._.relations == ()
    assert nlp("No entities here .")._.relations == ()
    one = nlp.make_doc("Cisplatin alone .")
    one.ents = [Span(one, 0, 1, "Chemical")]
    assert nlp(one)._.relations == ()
    # Two mentions of a label pair never seen in training: no candidates.
    two = nlp.make_doc("Cisplatin and lithium .")
    two.ents = [Span(two, 0, 1, "Chemical"), Span(two, 2, 3, "Chemical")]
    assert nlp(two)._.relations == ()
    docs = list(nlp.pipe([nlp.make_doc(""), one, two]))
    assert all(doc._.relations == () for doc in docs)


def test_update_on_docs_without_pairs(trained):
    nlp, _, _ = trained
    examples = [make_example(nlp, "Cisplatin alone .", [(0, 9, "Chemical", "D002945")], []),
                Example(nlp.make_doc(""), nlp.make_doc(""))]
    losses = nlp.update(examples, sgd=None)
    assert losses["biobert_relation_extractor"] == 0.0


def test_to_bytes_from_bytes_identical(trained):
    nlp, examples, _ = trained
    before = [doc._.relations for doc in predict(nlp, examples)]
    nlp2 = rel_nlp()
    nlp2.from_bytes(nlp.to_bytes())
    after = [doc._.relations for doc in predict(nlp2, examples)]
    assert after == before
    assert [[r.score for r in rels] for rels in after] == [[r.score for r in rels] for rels in before]
    assert nlp2.get_pipe("biobert_relation_extractor").cfg == nlp.get_pipe("biobert_relation_extractor").cfg


def test_docbin_roundtrip_keeps_relations(trained):
    nlp, examples, _ = trained
    docs = predict(nlp, examples)
    assert any(doc._.relations for doc in docs)
    data = DocBin(docs=docs, store_user_data=True).to_bytes()
    loaded = list(DocBin().from_bytes(data).get_docs(nlp.vocab))
    assert [d._.relations for d in loaded] == [d._.relations for d in docs]


def test_to_disk_then_spacy_load_in_fresh_process(trained, tmp_path):
    nlp, examples, _ = trained
    nlp.to_disk(tmp_path / "model")
    docs = predict(nlp, examples)
    expected = [[r.to_dict() for r in doc._.relations] for doc in docs]
    reloaded = spacy.load(tmp_path / "model")
    assert [[r.to_dict() for r in d._.relations] for d in predict(reloaded, examples)] == expected
    payload = [[t.text for t in doc] for doc in docs], [[(e.start, e.end, e.label_) for e in doc.ents]
                                                       for doc in docs]
    script = (
        "import json, sys, spacy\n"
        "from spacy.tokens import Doc, Span\n"
        "words, ents = json.loads(sys.argv[2])\n"
        "assert 'spacy_biobert' not in sys.modules\n"
        "nlp = spacy.load(sys.argv[1])\n"
        "out = []\n"
        "for w, es in zip(words, ents):\n"
        "    doc = Doc(nlp.vocab, words=w)\n"
        "    doc.ents = [Span(doc, s, e, l) for s, e, l in es]\n"
        "    out.append([r.to_dict() for r in nlp(doc)._.relations])\n"
        "print(json.dumps(out))\n"
    )
    # The docs of the subprocess are built from words only, so compare with the same here.
    local = []
    for words, ents in zip(*payload):
        doc = Doc(nlp.vocab, words=words)
        doc.ents = [Span(doc, s, e, lab) for s, e, lab in ents]
        local.append([r.to_dict() for r in nlp(doc)._.relations])
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "model"), json.dumps(payload)],
        capture_output=True, text=True, check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == local
    assert any(local)


def test_long_document_bounded_candidates():
    """300 mentions (~45,000 allowed ordered pairs) stay within max_pairs and bounded memory."""
    nlp = rel_nlp(candidates={"@misc": "spacy-biobert.relation_candidates.v1", "max_pairs": 500})
    examples = [make_example(nlp, *DATA[0])]
    train(nlp, examples, n_iter=2)
    rel = nlp.get_pipe("biobert_relation_extractor")
    words, ents = [], []
    for i in range(150):
        words += ["cisplatin", "induced", "nephrotoxicity", "."]
        ents += [(4 * i, 4 * i + 1, "Chemical"), (4 * i + 2, 4 * i + 3, "Disease")]
    doc = Doc(nlp.vocab, words=words)
    doc.ents = [Span(doc, s, e, lab) for s, e, lab in ents]
    assert len(doc.ents) == 300
    pairs = rel._pairs(doc, rel.mentions(doc))
    assert len(pairs) == 500
    # The nearest pairs are kept.
    assert max(max(0, max(h.start, t.start) - min(h.end, t.end)) for h, t in pairs) <= 10
    tracemalloc.start()
    doc = nlp(doc)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50 * 1024 * 1024
    assert all(type(r.score) is float for r in doc._.relations)


@pytest.mark.parametrize("pooling", ["max", "logsumexp"])
def test_concept_level_output_and_lexicon(pooling):
    """Document-level relations (BC5CDR style): gold concept-level relations train mention pairs
    (or, pooled, concept pairs); predictions carry a concept-level view, with IDs for predicted
    mentions from the lexicon."""
    nlp = rel_nlp(concept_level=True, concept_pooling=pooling)
    examples = []
    for text, ents, rels in DATA:
        eg = make_example(nlp, text, ents, rels)
        mention_rels = eg.reference._.relations
        eg.reference._.relations = [
            Relation(r.label, head_id=r.head.kb_id, tail_id=r.tail.kb_id,
                     head_mentions=(r.head,), tail_mentions=(r.tail,)) for r in mention_rels
        ]
        examples.append(eg)
    train(nlp, examples)
    rel = nlp.get_pipe("biobert_relation_extractor")
    assert rel.cfg["concept_lexicon"]["Chemical\taspirin"] == "D001241"
    docs = []
    for eg in examples:
        doc = nlp.make_doc(eg.reference.text)
        # Predicted entities have no kb_id: the lexicon supplies it.
        doc.ents = [doc.char_span(e.start_char, e.end_char, label=e.label_) for e in eg.reference.ents]
        docs.append(nlp(doc))
    concept = [r for r in docs[1]._.relations if r.level == "concept"]
    assert [(r.head_id, r.tail_id, r.label) for r in concept] == [("D001241", "D007022", "CID")]
    scores = rel.score([Example(d, eg.reference) for d, eg in zip(docs, examples)])
    assert scores["rel_mention_micro_f"] is None
    assert scores["rel_concept_micro_f"] == 1.0
    assert scores["rel_micro_f"] == 1.0


def test_logsumexp_pooled_loss_gradient():
    """With logsumexp pooling the loss is on concept pairs: its gradient with respect to each
    mention pair's logit matches finite differences, and a positive concept pair is satisfied by
    one high-scoring mention pair (the others are not pushed up)."""
    rel = rel_nlp(concept_level=True, concept_pooling="logsumexp").get_pipe("biobert_relation_extractor")
    logits = numpy.asarray([[2.0], [-3.0], [-1.0], [0.5]], dtype="f")
    truths = numpy.asarray([[1.0], [1.0], [0.0], [0.0]], dtype="f")
    groups = numpy.asarray([0, 0, 1, 2], dtype="i")  # rows 0-1: one concept pair
    loss, grad = rel._loss_and_gradient(logits, truths, groups)
    eps = 1e-3
    for i in range(len(logits)):
        up, down = logits.copy(), logits.copy()
        up[i, 0] += eps
        down[i, 0] -= eps
        numeric = (rel._loss_and_gradient(up, truths, groups)[0] - rel._loss_and_gradient(down, truths, groups)[0]) / (2 * eps)
        assert abs(float(grad[i, 0]) - numeric) < 1e-3
    # Three groups, not four rows: the pooled loss averages over concept pairs.
    assert grad.shape == logits.shape and float(grad[1, 0]) > -1e-3
    assert abs(float(grad[0, 0])) > 10 * abs(float(grad[1, 0]))
    with pytest.raises(BioBertError, match=r"\[E206\]"):
        rel_nlp(concept_level=True, concept_pooling="mean")


def test_tune_thresholds(trained):
    nlp, examples, _ = trained
    rel = nlp.get_pipe("biobert_relation_extractor")
    gold = [Example(with_gold_ents(nlp, eg), eg.reference) for eg in examples]
    chosen = rel.tune_thresholds(gold)
    assert set(chosen) == {"CID"}
    assert 0.0 < chosen["CID"] < 1.0
    assert rel.cfg["thresholds"]["CID"] == chosen["CID"]
    assert rel.score(gold)["rel_micro_f"] == 1.0
    with pytest.raises(BioBertError, match=r"\[E205\]"):
        rel.tune_thresholds(gold, level="sentence")
    rel.cfg["thresholds"] = {}


def test_transformer_listener_overfit_and_reload(tiny_trf_config, tmp_path):
    """With the encoder (tiny BERT) shared through a listener, trained jointly, saved, reloaded."""
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config=tiny_trf_config)
    nlp.add_pipe("biobert_relation_extractor", config={"model": {"hidden_width": 32}})
    examples = [make_example(nlp, *row) for row in DATA]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(40):
        losses = nlp.update(examples, sgd=optimizer)
    assert losses["biobert_relation_extractor"] < 0.1
    docs = [nlp(with_gold_ents(nlp, eg)) for eg in examples]
    scores = nlp.get_pipe("biobert_relation_extractor").score(
        [Example(d, eg.reference) for d, eg in zip(docs, examples)])
    assert scores["rel_micro_f"] == 1.0
    nlp.to_disk(tmp_path / "trf")
    nlp2 = spacy.load(tmp_path / "trf")
    docs2 = [nlp2(with_gold_ents(nlp2, eg)) for eg in examples]
    assert [d._.relations for d in docs2] == [d._.relations for d in docs]


def test_concept_relations_view_of_predictions(trained):
    nlp, examples, _ = trained
    docs = predict(nlp, examples)
    view = concept_relations(docs[1]._.relations)
    assert [(r.head_id, r.tail_id) for r in view] == [("D001241", "D007022")]


def test_evaluate_relations_gold_and_end_to_end(trained):
    from spacy_biobert.relations.evaluate import evaluate_relations, with_gold_mentions

    nlp, examples, _ = trained
    copied = with_gold_mentions(examples[0])
    assert [(e.text, e.kb_id_) for e in copied.predicted.ents] == [("Cisplatin", "D002945"),
                                                                     ("nephrotoxicity", "D007674")]
    assert not examples[0].predicted.ents  # the original example is left alone
    gold = evaluate_relations(nlp, examples, gold_entities=True)
    assert gold["rel_micro_f"] == 1.0
    # End to end, this pipeline has no entity recognizer: no mentions, no relations.
    e2e = evaluate_relations(nlp, examples, gold_entities=False)
    assert e2e["rel_micro_r"] == 0.0


def test_evaluate_cli_prints_relation_metrics(trained, tmp_path):
    """`spacy-biobert evaluate` prints (and saves) the relation scores `spacy evaluate` leaves out."""
    import srsly
    from spacy.tokens import DocBin
    from typer.testing import CliRunner

    from spacy_biobert.cli import app

    nlp, examples, _ = trained
    nlp.to_disk(tmp_path / "model")
    DocBin(docs=[eg.reference for eg in examples], store_user_data=True).to_disk(tmp_path / "dev.spacy")
    out = tmp_path / "scores.json"
    result = CliRunner().invoke(
        app, ["evaluate", str(tmp_path / "model"), str(tmp_path / "dev.spacy"), "--gold-entities",
              "--output", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "relations (micro)" in result.output and "100.00" in result.output
    assert "rel_f_per_type" in result.output
    assert srsly.read_json(out)["rel_micro_f"] == 1.0


def test_training_pairs_follow_gold_sentences_when_predicted_doc_has_none():
    """Training docs are not sentencized (E024 risk), so same-sentence candidates come from the
    reference's boundaries: no cross-sentence negatives the model would never see at inference."""
    nlp = rel_nlp(candidates={"@misc": "spacy-biobert.relation_candidates.v1", "max_sentences": 0})
    text = "Lithium caused seizures . Aspirin caused hypotension ."
    ents = [(0, 7, "Chemical", "D1"), (15, 23, "Disease", "D2"), (26, 33, "Chemical", "D3"),
            (41, 52, "Disease", "D4")]
    example = make_example(nlp, text, ents, [(0, 1, "CID"), (2, 3, "CID")])
    for token in example.reference[1:]:
        token.is_sent_start = token.i == 4  # "Aspirin" starts sentence two
    assert not example.predicted.has_annotation("SENT_START")
    train(nlp, [example], n_iter=1)
    rel = nlp.get_pipe("biobert_relation_extractor")
    pairs, truths = rel._truths(example)
    assert [(h.text, t.text) for h, t in pairs] == [("Lithium", "seizures"), ("Aspirin", "hypotension")]
    assert truths.sum() == 2
    # Without gold sentences every Chemical-Disease pair is a candidate.
    for token in example.reference[1:]:
        token.is_sent_start = False
    assert len(rel._truths(example)[0]) == 4


def test_learn_rate_scale_applies_to_the_head_only():
    """One Adam step from identical weights: the head moves `learn_rate_scale` times as far, the
    tok2vec exactly as far as without the scale."""
    from thinc.api import Adam

    def one_step(scale):
        fix_random_seed(0)
        nlp = rel_nlp(learn_rate_scale=scale)
        examples = [make_example(nlp, *row) for row in DATA]
        nlp.initialize(lambda: examples)
        rel = nlp.get_pipe("biobert_relation_extractor")
        output, tok2vec = rel.model.get_ref("output_layer"), rel.model.get_ref("tok2vec")
        embed = next(n for n in tok2vec.walk() if n.has_param("E"))
        before = output.get_param("W").copy(), embed.get_param("E").copy()
        nlp.update(examples, sgd=Adam(0.001))
        return output.get_param("W") - before[0], embed.get_param("E") - before[1]

    head_1, t2v_1 = one_step(1.0)
    head_10, t2v_10 = one_step(10.0)
    assert abs(head_1).max() > 0
    assert abs(head_10).max() == pytest.approx(10 * abs(head_1).max(), rel=0.05)
    assert abs(t2v_10 - t2v_1).max() < 1e-6
    with pytest.raises(BioBertError, match="learn_rate_scale"):
        rel_nlp(learn_rate_scale=0.0)
