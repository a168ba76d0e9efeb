"""The conlleval scorer against conlleval's definition, on fixtures worked out by hand."""
import pytest
import spacy
from spacy.tokens import Doc

from spacy_biobert.scoring import conlleval_chunks, conlleval_score, doc_iob_tags


@pytest.mark.parametrize(
    "tags,chunks",
    [
        # IOB2
        (["B-Chem", "I-Chem", "O", "B-Dis"], {(0, 0, 2, "Chem"), (0, 3, 4, "Dis")}),
        # I- without a B- starts a chunk (after O, at sentence start)
        (["I-Dis", "I-Dis", "O", "I-Chem"], {(0, 0, 2, "Dis"), (0, 3, 4, "Chem")}),
        # I-X right after a Y chunk closes Y and opens X
        (["B-Chem", "I-Dis", "I-Dis"], {(0, 0, 1, "Chem"), (0, 1, 3, "Dis")}),
        # B after I of the same type: two chunks
        (["B-Dis", "I-Dis", "B-Dis"], {(0, 0, 2, "Dis"), (0, 2, 3, "Dis")}),
        # IOBES
        (["S-Chem", "B-Dis", "E-Dis", "I-Dis"], {(0, 0, 1, "Chem"), (0, 1, 3, "Dis"), (0, 3, 4, "Dis")}),
        # chunk running to the end of the sentence
        (["O", "B-Chem", "I-Chem"], {(0, 1, 3, "Chem")}),
    ],
)
def test_chunks_follow_conlleval(tags, chunks):
    assert conlleval_chunks([tags]) == chunks


def test_sentence_boundary_closes_chunks():
    # conlleval resets the previous tag at a blank line, so I- continues nothing across it
    assert conlleval_chunks([["B-Dis", "I-Dis"], ["I-Dis"]]) == {(0, 0, 2, "Dis"), (1, 0, 1, "Dis")}


def test_scores_match_conlleval_counts():
    # Worked out with conlleval.pl's rules: gold has 4 chunks (Chem 2, Dis 2); the prediction has
    # 4 chunks, of which the I-only Dis at 0-2 and the Chem at 5 are exact; the Chem at 3-5
    # (gold 3-4) and the Dis at 7 (gold 7-9) are boundary errors and count as both FP and FN.
    gold = [["B-Dis", "I-Dis", "O", "B-Chem", "O", "B-Chem", "O", "B-Dis", "I-Dis"]]
    pred = [["I-Dis", "I-Dis", "O", "B-Chem", "I-Chem", "B-Chem", "O", "B-Dis", "O"]]
    scores = conlleval_score(gold, pred)
    assert (scores.tp, scores.n_pred, scores.n_gold) == (2, 4, 4)
    assert scores.overall["p"] == pytest.approx(50.0)
    assert scores.overall["f"] == pytest.approx(50.0)
    by_type = scores.by_type()
    assert (by_type["Chem"]["tp"], by_type["Chem"]["pred"], by_type["Chem"]["gold"]) == (1, 2, 2)
    assert (by_type["Dis"]["tp"], by_type["Dis"]["pred"], by_type["Dis"]["gold"]) == (1, 2, 2)
    assert scores.to_dict()["per_type"]["Dis"]["r"] == pytest.approx(50.0)


def test_type_mismatch_is_wrong():
    scores = conlleval_score([["B-Chem", "I-Chem"]], [["B-Dis", "I-Dis"]])
    assert scores.tp == 0
    assert scores.by_type()["Chem"]["r"] == 0.0 and scores.by_type()["Dis"]["p"] == 0.0


def test_empty_and_misaligned():
    assert conlleval_score([[]], [[]]).overall["f"] == 0.0
    with pytest.raises(ValueError):
        conlleval_score([["O"]], [["O", "O"]])


def test_doc_iob_tags():
    nlp = spacy.blank("en")
    doc = Doc(nlp.vocab, words=["aspirin", "causes", "liver", "injury"],
              ents=["B-Chem", "O", "B-Dis", "I-Dis"])
    assert doc_iob_tags(doc) == ["B-Chem", "O", "B-Dis", "I-Dis"]
