"""The readers on the real corpora (../shared/corpora): exact counts and real-file round trips.

Each file is parsed once per module (module-scoped fixtures); the module skips cleanly when the
corpora are absent. Counts are the ones the corpora's READMEs and the issue state.
"""
from collections import Counter

import pytest
import spacy
from corpora_helpers import annotations, signature
from typer.testing import CliRunner
from util import corpora_dir

from spacy_biobert.cli import app
from spacy_biobert.corpora import (
    MENTION_INFO_KEY,
    ConversionStats,
    read_bioc,
    read_chemprot,
    read_ddi,
    read_iob,
    read_ncbi_disease,
    read_pubtator,
    write_bioc,
    write_pubtator,
)

pytestmark = pytest.mark.corpora


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


def _read(reader, path, nlp, **kwargs):
    stats = ConversionStats()
    docs = list(reader(path, nlp, stats=stats, **kwargs))
    return docs, stats


@pytest.fixture(scope="module")
def bc5cdr_pubtator(nlp):
    return _read(read_pubtator, corpora_dir("bc5cdr", "pubtator", "CDR_DevelopmentSet.PubTator.txt"), nlp)


@pytest.fixture(scope="module")
def bc5cdr_bioc(nlp):
    return _read(read_bioc, corpora_dir("bc5cdr", "bioc", "CDR_DevelopmentSet.BioC.xml"), nlp)


@pytest.fixture(scope="module")
def biored_pubtator(nlp):
    return _read(read_pubtator, corpora_dir("biored", "pubtator", "Dev.PubTator"), nlp)


@pytest.fixture(scope="module")
def biored_bioc(nlp):
    return _read(read_bioc, corpora_dir("biored", "bioc_xml", "Dev.BioC.XML"), nlp)


def test_bc5cdr_devel_counts(bc5cdr_pubtator):
    docs, stats = bc5cdr_pubtator
    assert stats.to_dict() == {"docs": 500, "entities": {"Chemical": 5347, "Disease": 4244},
                               "relations": {"CID": 1012}, "skipped": {}}
    assert sum(len(d.ents) for d in docs) + stats.overlapping == 9591
    # Composite mentions (7th column) and mentions without an ID ("-1"), as the README counts.
    info = [d.user_data.get(MENTION_INFO_KEY, {}) for d in docs]
    assert sum(1 for i in info for m in i.values() if m["extra"].get("individual")) == 89
    assert sum(1 for d in docs for s in d.spans["sc"] if not s.kb_id_) == 59
    for doc in docs[:50]:
        for span in doc.spans["sc"]:
            assert all(not t.is_sent_start for t in span[1:])


def test_bc5cdr_bioc_equals_pubtator(bc5cdr_bioc, bc5cdr_pubtator):
    docs, stats = bc5cdr_bioc
    assert stats.to_dict() == bc5cdr_pubtator[1].to_dict()
    assert [annotations(d) for d in docs] == [annotations(d) for d in bc5cdr_pubtator[0]]
    # BioC also carries the composite mentions' parts (9773 annotations = 9591 + 182).
    assert stats.other["composite-mention parts (spans['individual_mentions'])"] == 182


def test_biored_dev_counts(biored_pubtator, biored_bioc):
    docs, stats = biored_pubtator
    assert stats.docs == 100
    assert stats.entities == {"GeneOrGeneProduct": 1087, "DiseaseOrPhenotypicFeature": 982,
                              "ChemicalEntity": 822, "OrganismTaxon": 370, "SequenceVariant": 250,
                              "CellLine": 22}
    assert sum(stats.entities.values()) == 3533
    assert sum(stats.relations.values()) == 1162
    assert stats.relations == {"Association": 560, "Bind": 19, "Comparison": 5, "Cotreatment": 10,
                               "Negative_Correlation": 216, "Positive_Correlation": 352}
    novel = Counter(r.properties["novel"] for d in docs for r in d._.relations)
    assert novel == {"Novel": 835, "No": 327}
    assert all(r.head_mentions and r.tail_mentions for d in docs for r in d._.relations)
    bioc_docs, bioc_stats = biored_bioc
    assert bioc_stats.to_dict() == stats.to_dict()
    assert [annotations(d) for d in bioc_docs] == [annotations(d) for d in docs]


@pytest.mark.parametrize("which", ["bc5cdr", "biored"])
def test_real_pubtator_round_trip(which, bc5cdr_pubtator, biored_pubtator, nlp, tmp_path):
    docs = (bc5cdr_pubtator if which == "bc5cdr" else biored_pubtator)[0]
    write_pubtator(docs, tmp_path / "out.pubtator")
    again = list(read_pubtator(tmp_path / "out.pubtator", nlp))
    assert len(again) == len(docs)
    assert [signature(d) for d in again] == [signature(d) for d in docs]


@pytest.mark.parametrize("which", ["bc5cdr", "biored"])
def test_real_bioc_round_trip(which, bc5cdr_bioc, biored_bioc, nlp, tmp_path):
    docs = (bc5cdr_bioc if which == "bc5cdr" else biored_bioc)[0]
    write_bioc(docs, tmp_path / "out.xml")
    again = list(read_bioc(tmp_path / "out.xml", nlp))
    assert len(again) == len(docs)
    assert [signature(d) for d in again] == [signature(d) for d in docs]


def test_ncbi_disease_devel_via_cli(tmp_path):
    import json

    path = corpora_dir("ncbi_disease", "original", "NCBIdevelopset_corpus.txt")
    result = CliRunner().invoke(app, ["convert", str(path), str(tmp_path / "ncbi.spacy"), "--format",
                                      "ncbi", "--summary", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary == {"docs": 100, "entities": {"CompositeMention": 35, "DiseaseClass": 126,
                                                 "Modifier": 214, "SpecificDisease": 412},
                       "relations": {}, "skipped": {}}
    assert sum(summary["entities"].values()) == 787


def test_chemprot_development_counts(nlp):
    docs, stats = _read(read_chemprot, corpora_dir("chemprot", "original", "chemprot_development"), nlp)
    assert stats.docs == 612
    assert stats.entities == {"CHEMICAL": 8004, "GENE-Y": 5151, "GENE-N": 2412}
    assert sum(stats.entities.values()) == 15567
    assert stats.relations == {"CPR:3": 550, "CPR:4": 1094, "CPR:5": 116, "CPR:6": 199, "CPR:9": 457}
    assert all(r.level == "mention" and r.head.label == "CHEMICAL" for d in docs for r in d._.relations)


def test_ddi_train_counts(nlp):
    docs, stats = _read(read_ddi, corpora_dir("ddi", "Train"), nlp)
    assert stats.docs == 714
    assert stats.entities == {"drug": 9425, "brand": 1437, "group": 3399, "drug_n": 504}
    assert sum(stats.entities.values()) == 14765
    assert sum(stats.relations.values()) == 4021
    assert stats.relations == {"mechanism": 1319, "effect": 1687, "advise": 826, "int": 188, "untyped": 1}
    assert sum(len(d.user_data["spacy_biobert.doc"]["negative_pairs"]) for d in docs) == 27792 - 4021
    empty = stats.other["DDI empty sentences (no tokens, not kept)"]
    assert empty == 71
    assert sum(len(list(d.sents)) for d in docs) == 5675 + 1301 - empty


def test_jnlpba_train_counts(nlp):
    docs, stats = _read(read_iob, corpora_dir("jnlpba", "train", "Genia4ERtask2.iob2"), nlp)
    assert stats.docs == 2000
    assert stats.entities == {"protein": 30269, "DNA": 9533, "RNA": 951, "cell_type": 6718, "cell_line": 3830}
    assert sum(stats.entities.values()) == 51301
    assert sum(len(d) for d in docs) == 492551
    assert sum(len(list(d.sents)) for d in docs) == 18546


TRAIN_SPLITS = [
    (read_pubtator, ("bc5cdr", "pubtator", "CDR_TrainingSet.PubTator.txt"), 500,
     {"Chemical": 5203, "Disease": 4182}, {"CID": 1038}),
    (read_bioc, ("bc5cdr", "bioc", "CDR_TrainingSet.BioC.xml"), 500,
     {"Chemical": 5203, "Disease": 4182}, {"CID": 1038}),
    (read_ncbi_disease, ("ncbi_disease", "original", "NCBItrainset_corpus.txt"), 593,
     {"SpecificDisease": 2972, "DiseaseClass": 769, "Modifier": 1289, "CompositeMention": 115}, {}),
    (read_pubtator, ("biored", "pubtator", "Train.PubTator"), 400,
     {"GeneOrGeneProduct": 4430, "DiseaseOrPhenotypicFeature": 3646, "ChemicalEntity": 2853,
      "OrganismTaxon": 1429, "SequenceVariant": 890, "CellLine": 103},
     {"Association": 2192, "Bind": 61, "Comparison": 28, "Conversion": 3, "Cotreatment": 31,
      "Drug_Interaction": 11, "Negative_Correlation": 763, "Positive_Correlation": 1089}),
    (read_chemprot, ("chemprot", "original", "chemprot_training"), 1020,
     {"CHEMICAL": 13017, "GENE-Y": 8348, "GENE-N": 4387},
     {"CPR:3": 768, "CPR:4": 2254, "CPR:5": 173, "CPR:6": 235, "CPR:9": 727}),
    (read_iob, ("bc5cdr", "iob", "train.tsv"), 4560, {"Chemical": 5203, "Disease": 4182}, {}),
]


@pytest.mark.slow
@pytest.mark.parametrize("reader,parts,n_docs,entities,relations", TRAIN_SPLITS)
def test_train_split_counts(nlp, reader, parts, n_docs, entities, relations):
    """The same counts hold on the other splits (opt in with --slow)."""
    _, stats = _read(reader, corpora_dir(*parts), nlp)
    assert stats.to_dict() == {"docs": n_docs, "entities": dict(sorted(entities.items())),
                               "relations": dict(sorted(relations.items())), "skipped": {}}
