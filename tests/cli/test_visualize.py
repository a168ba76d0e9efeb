import json

import spacy
from spacy.tokens import DocBin, Span
from typer.testing import CliRunner

from spacy_biobert.cli import app
from spacy_biobert.cli.visualize import read_annotated
from spacy_biobert.relations import Mention, Relation
from spacy_biobert.visualize import relation_arcs, render_docs, render_relations

runner = CliRunner()


def make_doc():
    nlp = spacy.blank("en")
    # Cisplatin - induced nephrotoxicity in rats . Cisplatin did not cause seizures .
    doc = nlp("Cisplatin-induced nephrotoxicity in rats. Cisplatin did not cause seizures.")
    doc.ents = [
        Span(doc, 0, 1, "Chemical", kb_id="C1"), Span(doc, 3, 4, "Disease", kb_id="D1"),
        Span(doc, 7, 8, "Chemical", kb_id="C1"), Span(doc, 11, 12, "Disease", kb_id="D2"),
    ]
    chem = (Mention(0, 1, "Chemical", "C1"), Mention(7, 8, "Chemical", "C1"))
    doc._.relations = [
        # Concept level: drawn between the closest pair of mentions.
        Relation("CID", head_id="C1", tail_id="D1", head_mentions=chem,
                 tail_mentions=(Mention(3, 4, "Disease", "D1"),), score=0.91),
        # Mention level, tail before head: the arrow must still point at the tail.
        Relation("treats", head=Mention(11, 12, "Disease", "D2"), tail=Mention(7, 8, "Chemical", "C1"),
                 score=0.3),
    ]
    doc.user_data["id"] = "pmid1"
    return doc


def test_relation_arcs():
    data = relation_arcs(make_doc())
    assert [w["text"] for w in data["words"]] == ["Cisplatin", "nephrotoxicity", "Cisplatin", "seizures"]
    assert data["words"][0]["tag"] == "Chemical C1"
    assert data["arcs"] == [
        {"start": 0, "end": 1, "label": "CID 0.91", "dir": "right"},
        {"start": 2, "end": 3, "label": "treats 0.30", "dir": "left"},
    ]
    assert [a["label"] for a in relation_arcs(make_doc(), min_score=0.5)["arcs"]] == ["CID 0.91"]


def test_render_relations_html():
    html = render_relations(make_doc(), title="pmid1", page=True)
    assert html.startswith("<!DOCTYPE html>") and "<h2>pmid1</h2>" in html
    assert html.count("displacy-arc") == 2 and "CID 0.91" in html
    # Entity highlights from displaCy's "ent" style, with the label.
    assert "nephrotoxicity" in html and "Disease" in html and "<mark" in html
    doc = make_doc()
    doc._.relations = []
    assert "No relations." in render_relations(doc)
    page = render_docs([make_doc(), doc])
    assert page.count("<section") == 2 and "pmid1" in page


def test_visualize_cli_from_jsonl_and_docbin(tmp_path):
    from spacy_biobert.cli.annotate import doc_to_json

    doc = make_doc()
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text(json.dumps(doc_to_json(doc, "pmid1")) + "\n", encoding="utf8")
    out = tmp_path / "out.html"
    result = runner.invoke(app, ["visualize", str(jsonl), str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf8")
    assert "CID 0.91" in html and "pmid1" in html
    assert "Rendered 1 documents (4 entities, 2 relations)" in result.output

    db = DocBin(store_user_data=True, docs=[doc])
    db.to_disk(tmp_path / "a.spacy")
    docs = list(read_annotated(tmp_path / "a.spacy"))
    assert len(docs[0]._.relations) == 2


def test_visualize_cli_with_model(rel_pipeline_dir, tmp_path):
    inp = tmp_path / "docs.txt"
    inp.write_text("Cisplatin-induced nephrotoxicity in rats.\nLithium caused seizures.\n", encoding="utf8")
    out = tmp_path / "out.html"
    result = runner.invoke(app, ["visualize", str(inp), str(out), "--model", str(rel_pipeline_dir)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf8").count("<section") == 2


def test_visualize_cli_bad_input(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n", encoding="utf8")
    result = runner.invoke(app, ["visualize", str(bad), str(tmp_path / "o.html")])
    assert result.exit_code == 1 and "[E305]" in result.output and "bad.jsonl:1" in result.output
