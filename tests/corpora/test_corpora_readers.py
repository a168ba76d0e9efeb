"""Readers and writers on small hand-written fixtures (tests/fixtures/corpora)."""
import io
from pathlib import Path

import pytest
import spacy
from corpora_helpers import signature
from spacy.tokens import DocBin

from spacy_biobert.corpora import (
    MENTION_INFO_KEY,
    META_KEY,
    ConversionStats,
    read_bioc,
    read_chemprot,
    read_corpus,
    read_ddi,
    read_iob,
    read_ncbi_disease,
    read_pubtator,
    write_bioc,
    write_pubtator,
)
from spacy_biobert.corpora.bioc import INDIVIDUAL_KEY
from spacy_biobert.corpora.docbuilder import split_into_sentence_groups
from spacy_biobert.relations import Mention, Relation

FIX = Path(__file__).parent.parent / "fixtures" / "corpora"


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


def mentions(doc, key="sc"):
    return [(s.start_char, s.end_char, s.text, s.label_, s.kb_id_) for s in doc.spans[key]]


def assert_sentences_respect_mentions(doc):
    assert doc.has_annotation("SENT_START")
    for key in doc.spans:
        for span in doc.spans[key]:
            assert all(not t.is_sent_start for t in span[1:]), span.text


# --- PubTator ---------------------------------------------------------------------------------

def test_pubtator_mentions_ids_and_text(nlp):
    stats = ConversionStats()
    docs = list(read_pubtator(FIX / "pubtator" / "mini.pubtator", nlp, stats=stats))
    assert [d.user_data[META_KEY]["id"] for d in docs] == ["1001", "2002"]
    doc = docs[0]
    assert doc.text.startswith("Naloxone-induced hypotension and cardiac or respiratory depression in rats. Naloxone")
    assert mentions(doc)[2] == (33, 66, "cardiac or respiratory depression", "Disease", "D006331|D012131")
    assert mentions(doc)[-1] == (200, 206, "saline", "Chemical", "")  # "-1" = no concept
    assert [s.id_ for s in doc.spans["sc"]][:2] == ["T1", "T2"]
    assert doc.user_data[MENTION_INFO_KEY]["T3"]["extra"] == {"individual": "cardiac depression|respiratory depression"}
    assert len(doc.ents) == 9
    # The title is its own sentence; no sentence starts inside a mention.
    assert list(doc.sents)[0].text.strip() == "Naloxone-induced hypotension and cardiac or respiratory depression in rats."
    assert_sentences_respect_mentions(doc)
    assert stats.to_dict() == {
        "docs": 2,
        "entities": {"Chemical": 5, "ChemicalEntity": 2, "Disease": 4, "DiseaseOrPhenotypicFeature": 3,
                     "GeneOrGeneProduct": 2, "OrganismTaxon": 1, "SequenceVariant": 1},
        "relations": {"CID": 2, "Negative_Correlation": 1, "Positive_Correlation": 1},
        "skipped": {},
    }
    # Nested BRCA1 inside the variant mention: kept in spans, left out of ents.
    assert stats.overlapping == 1
    assert len(docs[1].spans["sc"]) == 9 and len(docs[1].ents) == 8


def test_pubtator_concept_relations(nlp):
    doc1, doc2 = read_pubtator(FIX / "pubtator" / "mini.pubtator", nlp)
    cid = doc1._.relations[0]
    assert (cid.label, cid.head_id, cid.tail_id, cid.level) == ("CID", "D009270", "D007022", "concept")
    assert [m.span(doc1).text for m in cid.head_mentions] == ["Naloxone", "Naloxone"]
    assert [m.span(doc1).text for m in cid.tail_mentions] == ["hypotension", "hypotensive"]
    novel, no = doc2._.relations
    assert novel.properties == {"novel": "Novel"} and no.properties == {"novel": "No"}
    # Variant IDs contain "|": matched whole; "D001943,D010051" matches each listed ID.
    assert [m.span(doc2).text for m in novel.head_mentions] == ["BRCA1 c.68_69delAG"]
    assert [m.span(doc2).text for m in novel.tail_mentions] == ["breast and ovarian cancer"]
    assert [m.span(doc2).text for m in no.tail_mentions] == [
        "breast cancer", "breast and ovarian cancer", "breast cancer"]


def test_mention_boundary_inside_token_splits_it(nlp, tmp_path):
    text_t, text_a = "Ca2+channel blockers and Na+/K+-ATPase.", "Nifedipine5mg was given."
    full = f"{text_t} {text_a}"
    lines = [f"1|t|{text_t}", f"1|a|{text_a}"]
    for sub in ("Ca2+", "Na+", "K+", "Nifedipine"):
        s = full.index(sub)
        lines.append(f"1\t{s}\t{s + len(sub)}\t{sub}\tChemical\t-1")
    path = tmp_path / "split.pubtator"
    path.write_text("\n".join(lines) + "\n", encoding="utf8")
    assert "Ca2+channel" in [t.text for t in nlp(full)] or "Nifedipine5mg" in [t.text for t in nlp(full)]
    (doc,) = read_pubtator(path, nlp)
    assert doc.text == full
    assert [s.text for s in doc.spans["sc"]] == ["Ca2+", "Na+", "K+", "Nifedipine"]
    assert [e.text for e in doc.ents] == ["Ca2+", "Na+", "K+", "Nifedipine"]


def test_mention_with_surrounding_space_gets_whitespace_token(nlp, tmp_path):
    path = tmp_path / "ws.pubtator"
    path.write_text("1|t|Aspirin and stroke\n1|a|x\n1\t7\t11\t and\tOther\t-1\n"
                    "1\t8\t12\tand \tOther\t-1\n", encoding="utf8")
    (doc,) = read_pubtator(path, nlp)
    assert doc.text == "Aspirin and stroke x"
    assert [s.text for s in doc.spans["sc"]] == [" and", "and "]


def test_raw_pubtator_without_annotations(nlp):
    docs = list(read_pubtator(FIX / "pubtator" / "raw.pubtator", nlp))
    assert [d.text for d in docs] == [
        "Aspirin and stroke. Aspirin lowers the risk of stroke in adults.", "Title only document."]
    assert all(len(d.spans["sc"]) == 0 and len(d.ents) == 0 for d in docs)
    assert [len(list(d.sents)) for d in docs] == [2, 1]


def test_pubtator_write_then_read_is_identical(nlp, tmp_path):
    docs = list(read_pubtator(FIX / "pubtator" / "mini.pubtator", nlp))
    out = tmp_path / "out.pubtator"
    written = write_pubtator(docs, out)
    assert written.docs == 2 and sum(written.entities.values()) == 18
    again = list(read_pubtator(out, nlp))
    assert [signature(d) for d in again] == [signature(d) for d in docs]
    # The file itself is reproduced, up to "-1" for the one mention without an ID.
    assert out.read_text(encoding="utf8") == (FIX / "pubtator" / "mini.pubtator").read_text(encoding="utf8")


def test_write_pubtator_from_pipeline_docs(nlp):
    """Docs made by a pipeline (no reader metadata): title = first sentence, mention-level
    relations collapsed to concept pairs, ones without concept IDs counted as skipped."""
    doc = nlp("Aspirin causes ulcers. Aspirin is common.")
    doc[0].is_sent_start = True
    for t in doc[1:]:
        t.is_sent_start = t.i == 4
    from spacy.tokens import Span

    doc.ents = [Span(doc, 0, 1, "Chemical", kb_id="D001241"), Span(doc, 2, 3, "Disease"),
                Span(doc, 4, 5, "Chemical", kb_id="D001241")]
    head, tail = Mention.from_span(doc.ents[0]), Mention.from_span(doc.ents[1])
    doc._.relations = [Relation("CID", head=head, tail=tail),
                       Relation("CID", head=Mention(4, 5, "Chemical", "D001241"), tail=Mention(2, 3, "Disease", "D0"))]
    buf = io.StringIO()
    stats = write_pubtator([doc], buf)
    assert buf.getvalue().splitlines() == [
        "0|t|Aspirin causes ulcers.", "0|a|Aspirin is common.",
        "0\t0\t7\tAspirin\tChemical\tD001241", "0\t15\t21\tulcers\tDisease\t-1",
        "0\t23\t30\tAspirin\tChemical\tD001241", "0\tCID\tD001241\tD0", "",
    ]
    assert stats.skipped == {"relation_without_concept_id": 1}


def test_docbin_round_trip_keeps_everything(nlp):
    docs = [*read_pubtator(FIX / "pubtator" / "mini.pubtator", nlp),
            *read_chemprot(FIX / "chemprot" / "mini_split", nlp),
            *read_ddi(FIX / "ddi", nlp), *read_bioc(FIX / "bioc" / "mini.bioc.xml", nlp)]
    data = DocBin(store_user_data=True, docs=docs).to_bytes()
    again = list(DocBin().from_bytes(data).get_docs(spacy.blank("en").vocab))
    assert [signature(d) for d in again] == [signature(d) for d in docs]
    assert sum(len(d._.relations) for d in again) == 4 + 6 + 4 + 3


# --- NCBI-disease ---------------------------------------------------------------------------

def test_ncbi_disease(nlp):
    stats = ConversionStats()
    (doc,) = read_ncbi_disease(FIX / "ncbi" / "mini_ncbi.txt", nlp, stats=stats)
    assert mentions(doc)[1] == (98, 124, "breast and ovarian cancers", "CompositeMention", "D001943+D010051")
    assert stats.entities == {"SpecificDisease": 2, "CompositeMention": 1, "Modifier": 1, "DiseaseClass": 1}
    assert stats.overlapping == 1  # "Ataxia" inside "Ataxia-telangiectasia"
    assert_sentences_respect_mentions(doc)


# --- BioC -----------------------------------------------------------------------------------

def test_bioc_reader(nlp):
    stats = ConversionStats()
    doc1, doc2 = read_bioc(FIX / "bioc" / "mini.bioc.xml", nlp, stats=stats)
    assert doc1.text == "Lithium-induced cardiac and renal toxicity. Lithium carbonate caused cardiac toxicity in two patients."
    assert mentions(doc1)[1] == (16, 42, "cardiac and renal toxicity", "Disease", "D066126|D058186")
    # Composite parts (one discontinuous) are kept apart from the gold mentions.
    assert [(s.text, s.kb_id_) for s in doc1.spans[INDIVIDUAL_KEY]] == [
        ("cardiac and renal toxicity", "D066126"), ("renal toxicity", "D058186")]
    assert doc1.user_data[MENTION_INFO_KEY]["2"]["fragments"] == [[16, 23], [34, 42]]
    cid = doc1._.relations[0]
    assert (cid.label, cid.head_id, cid.tail_id) == ("CID", "D016651", "D066126")
    assert [m.span(doc1).text for m in cid.tail_mentions] == ["cardiac and renal toxicity", "cardiac toxicity"]
    bind, pos = doc2._.relations
    assert (bind.label, bind.head_id, bind.tail_id, bind.properties) == ("Bind", "D003474", "7157", {"novel": "Novel"})
    assert pos.level == "mention" and (pos.head.span(doc2).text, pos.tail.span(doc2).text) == ("curcumin", "TP53")
    assert doc2.user_data[META_KEY]["passages"] == [["title", 0, 20], ["abstract", 21, 51]]
    assert stats.entities["Disease"] == 2 and stats.other["composite-mention parts (spans['individual_mentions'])"] == 2


def test_bioc_write_then_read_is_identical(nlp, tmp_path):
    docs = list(read_bioc(FIX / "bioc" / "mini.bioc.xml", nlp))
    out = tmp_path / "out.xml"
    write_bioc(docs, out)
    again = list(read_bioc(out, nlp))
    assert [signature(d) for d in again] == [signature(d) for d in docs]


def test_pubtator_to_bioc_and_back(nlp, tmp_path):
    docs = list(read_pubtator(FIX / "pubtator" / "mini.pubtator", nlp))
    write_bioc(docs, tmp_path / "x.xml")
    again = list(read_bioc(tmp_path / "x.xml", nlp))
    assert [signature(d) for d in again] == [signature(d) for d in docs]


# --- IOB ------------------------------------------------------------------------------------

def test_iob_two_column_one_doc_per_sentence(nlp):
    docs = list(read_iob(FIX / "iob" / "two_col.tsv", nlp))
    assert [d.text for d in docs] == ["Selegiline - induced postural hypotension .", "Naloxone reverses hypertension"]
    assert [(e.text, e.label_) for e in docs[0].ents] == [("Selegiline", "Chemical"), ("postural hypotension", "Disease")]


def test_iob1_multicolumn_docstart(nlp):
    docs = list(read_iob(FIX / "iob" / "iob1_multi.tsv", nlp))
    assert len(docs) == 2
    assert [(e.text, e.label_) for e in docs[0].ents] == [
        ("IL-2 gene", "DNA"), ("T cells", "cell_type"), ("NF-kappa B", "protein"), ("p50", "protein")]
    assert [s.text for s in docs[0].sents] == ["IL-2 gene expression in T cells", "NF-kappa B p50 binds"]


def test_iob_medline_markers(nlp):
    stats = ConversionStats()
    docs = list(read_iob(FIX / "iob" / "jnlpba_like.iob2", nlp, stats=stats))
    assert [d.user_data[META_KEY]["id"] for d in docs] == ["95369245", "97218353", "97218353"]
    assert len(list(docs[0].sents)) == 2
    assert stats.entities == {"DNA": 1, "protein": 1, "RNA": 1, "cell_type": 1}


def test_iob_untyped(nlp):
    docs = list(read_iob(FIX / "iob" / "untyped.tsv", nlp, untyped_label="Species"))
    assert [(e.text, e.label_) for d in docs for e in d.ents] == [
        ("Methanoregula formicica", "Species"), ("E. coli", "Species")]


# --- ChemProt -------------------------------------------------------------------------------

def test_chemprot_gold_relations(nlp):
    stats = ConversionStats()
    docs = list(read_chemprot(FIX / "chemprot" / "mini_split", nlp, stats=stats))
    assert stats.to_dict() == {
        "docs": 2, "entities": {"CHEMICAL": 6, "GENE-N": 2, "GENE-Y": 5},
        "relations": {"CPR:3": 1, "CPR:4": 3, "CPR:6": 2}, "skipped": {},
    }
    doc = docs[0]
    assert doc.text.startswith("Aspirin inhibits COX-1. Aspirin irreversibly")
    rel = doc._.relations[1]
    assert (rel.label, rel.level, rel.head.span(doc).text, rel.tail.span(doc).text) == (
        "CPR:4", "mention", "Aspirin", "cyclooxygenase-1")
    assert stats.overlapping == 1  # "adenosine" inside "adenosine receptors"


def test_chemprot_all_relations_and_abstracts_file(nlp):
    stats = ConversionStats()
    path = FIX / "chemprot" / "mini_split" / "mini_abstracts.tsv"
    docs = list(read_chemprot(path, nlp, stats=stats, relations="all"))
    assert stats.relations == {"CPR:4": 3, "CPR:3": 1, "CPR:6": 2, "CPR:1": 1, "CPR:10": 1}
    assert docs[1]._.relations[1].properties == {"eval": "N", "fine_label": "NOT"}


# --- DDI ------------------------------------------------------------------------------------

def test_ddi_folder(nlp):
    stats = ConversionStats()
    docs = list(read_ddi(FIX / "ddi", nlp, stats=stats))
    assert [d.user_data[META_KEY]["id"] for d in docs] == ["DDI-DrugBank.d900", "DDI-MedLine.d901"]
    doc = docs[0]
    assert len(list(doc.sents)) == 3
    assert [s.text for s in doc.spans["sc"]] == [
        "probenecid", "acyclovir", "acyclovir", "Loop and thiazide diuretics", "thiazide diuretics", "lithium"]
    assert doc.user_data[MENTION_INFO_KEY]["DDI-DrugBank.d900.s1.e0"]["fragments"] == [[77, 81], [95, 104]]
    assert [(r.label, r.head.span(doc).text, r.tail.span(doc).text) for r in doc._.relations] == [
        ("mechanism", "probenecid", "acyclovir"), ("effect", "Loop and thiazide diuretics", "lithium"),
        ("untyped", "thiazide diuretics", "lithium")]
    assert len(doc.user_data[META_KEY]["negative_pairs"]) == 3
    assert stats.relations == {"mechanism": 1, "effect": 1, "untyped": 1, "advise": 1}
    assert stats.entities == {"drug": 6, "group": 2}


# --- sentence groups ------------------------------------------------------------------------

def test_split_into_sentence_groups_keeps_mentions_and_relations(nlp):
    doc = list(read_pubtator(FIX / "pubtator" / "mini.pubtator", nlp))[0]
    n_sents = len(list(doc.sents))
    groups = split_into_sentence_groups(doc, 1)
    assert len(groups) == n_sents
    assert "".join(g.text for g in groups) == doc.text
    assert sum(len(g.spans["sc"]) for g in groups) == len(doc.spans["sc"])
    assert [(s.text, s.kb_id_) for g in groups for s in g.spans["sc"]] == [
        (s.text, s.kb_id_) for s in doc.spans["sc"]]
    # CID D003000-D001919 (clonidine -> bradycardia) has both ends in the third sentence only.
    kept = [(g.user_data[META_KEY]["id"], r.head_id, r.tail_id) for g in groups for r in g._.relations]
    assert kept == [("1001#0", "D009270", "D007022"), ("1001#1", "D009270", "D007022"),
                    ("1001#2", "D003000", "D001919")]
    for g in groups:
        for r in g._.relations:
            assert all(0 <= m.start < m.end <= len(g) for m in (*r.head_mentions, *r.tail_mentions))
    assert split_into_sentence_groups(doc, 100) == [doc]


def test_read_corpus_dispatch(nlp):
    assert len(list(read_corpus("ncbi", FIX / "ncbi" / "mini_ncbi.txt", nlp))) == 1


def test_writers_use_predicted_ents_of_raw_docs(nlp, tmp_path):
    """Raw PubTator read, then annotated (ents only, "sc" empty), is written with its entities."""
    from spacy.tokens import Span

    doc = list(read_pubtator(FIX / "pubtator" / "raw.pubtator", nlp))[0]
    assert len(doc.spans["sc"]) == 0
    doc.ents = [Span(doc, 0, 1, "Chemical", kb_id="D001241"), Span(doc, 2, 3, "Disease")]
    buf = io.StringIO()
    write_pubtator([doc], buf)
    assert buf.getvalue().splitlines()[2:4] == [
        "3003\t0\t7\tAspirin\tChemical\tD001241", "3003\t12\t18\tstroke\tDisease\t-1"]
    write_bioc([doc], tmp_path / "a.xml")
    (again,) = read_bioc(tmp_path / "a.xml", nlp)
    assert [(e.text, e.label_, e.kb_id_) for e in again.ents] == [
        ("Aspirin", "Chemical", "D001241"), ("stroke", "Disease", "")]
    assert again.user_data[META_KEY]["passages"] == [["title", 0, 19], ["abstract", 20, 64]]


def test_cli_converts_to_docbin_pubtator_and_bioc(tmp_path):
    from typer.testing import CliRunner

    from spacy_biobert.cli import app

    src = FIX / "bioc" / "mini.bioc.xml"
    runner = CliRunner()
    for fmt, name in (("spacy", "a.spacy"), ("pubtator", "a.pubtator"), ("bioc", "a.xml")):
        result = runner.invoke(app, ["convert", str(src), str(tmp_path / name), "--format", "bioc",
                                     "--output-format", fmt])
        assert result.exit_code == 0, result.output
        assert "relations: CID" in result.output
    original = list(read_bioc(src, spacy.blank("en")))
    from_docbin = list(DocBin().from_disk(tmp_path / "a.spacy").get_docs(spacy.blank("en").vocab))
    assert [signature(d) for d in from_docbin] == [signature(d) for d in original]
    assert [signature(d) for d in read_bioc(tmp_path / "a.xml", spacy.blank("en"))] == [
        signature(d) for d in original]
    from_pubtator = list(read_pubtator(tmp_path / "a.pubtator", spacy.blank("en")))
    assert [[(s.start_char, s.end_char, s.label_, s.kb_id_) for s in d.spans["sc"]] for d in from_pubtator] == [
        [(s.start_char, s.end_char, s.label_, s.kb_id_) for s in d.spans["sc"]] for d in original]


def test_write_pubtator_one_line_per_concept_pair(nlp):
    """A pipeline's concept-level view and the mention-level relation it came from name the same
    pair: PubTator gets it once."""
    from spacy.tokens import Span

    doc = nlp("Aspirin causes ulcers.")
    doc.ents = [Span(doc, 0, 1, "Chemical", kb_id="D001241"), Span(doc, 2, 3, "Disease", kb_id="D014456")]
    head, tail = Mention.from_span(doc.ents[0]), Mention.from_span(doc.ents[1])
    doc._.relations = [
        Relation("CID", head=head, tail=tail, score=0.9),
        Relation("CID", head_id="D001241", tail_id="D014456", head_mentions=(head,),
                 tail_mentions=(tail,), score=0.9),
    ]
    buf = io.StringIO()
    write_pubtator([doc], buf)
    assert [line for line in buf.getvalue().splitlines() if "\tCID\t" in line] == [
        "0\tCID\tD001241\tD014456"
    ]


def test_atomic_output_gets_ordinary_permissions(tmp_path):
    import os

    from spacy_biobert.corpora.docbuilder import atomic_output

    with atomic_output(tmp_path / "out.txt") as fh:
        fh.write("x")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o666 & ~umask
