import json
from itertools import count, islice
from pathlib import Path

import pytest
import spacy
from typer.testing import CliRunner

from spacy_biobert.cli import app
from spacy_biobert.cli.annotate import (
    AnnotateStats,
    BadRecord,
    InputRecord,
    annotate,
    detect_input_format,
    doc_to_json,
    json_to_doc,
    read_records,
)
from spacy_biobert.corpora import read_bioc, read_pubtator
from spacy_biobert.errors import BioBertError

runner = CliRunner()

TEXTS = [
    "Cisplatin-induced nephrotoxicity in rats.",
    "Lithium did not cause seizures. Haloperidol caused hypotension.",
    "Doxorubicin cardiotoxicity was dose dependent.",
]


def run(*args: str):
    result = runner.invoke(app, ["annotate", *map(str, args), "--no-progress"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def read_jsonl(path: Path):
    return [json.loads(line) for line in path.read_text(encoding="utf8").splitlines()]


def check_record(rec):
    """Offsets select the entity text; relations carry scores in [0, 1] and valid mentions."""
    for ent in rec["entities"]:
        assert rec["text"][ent["start"]:ent["end"]] == ent["text"]
    assert rec["relations"], rec
    for rel in rec["relations"]:
        assert rel["label"] == "CID" and 0.0 <= rel["score"] <= 1.0
        mentions = [rel["head"], rel["tail"]] if "head" in rel else rel["head_mentions"] + rel["tail_mentions"]
        for m in mentions:
            assert rec["text"][m["start"]:m["end"]] == m["text"]


def test_lines_to_jsonl_skips_bad_utf8(rel_pipeline_dir, tmp_path):
    inp = tmp_path / "docs.txt"
    inp.write_bytes(("\n".join(TEXTS[:2]) + "\n").encode() + b"\xff\xfe not utf-8\n\n"
                    + TEXTS[2].encode() + b"\n")
    out = tmp_path / "out.jsonl"
    result = run(rel_pipeline_dir, inp, out)
    assert result.exit_code == 0, result.output
    recs = read_jsonl(out)
    assert [r["id"] for r in recs] == ["docs:1", "docs:2", "docs:5"]
    assert [r["text"] for r in recs] == TEXTS
    assert [e["text"] for e in recs[0]["entities"]] == ["Cisplatin", "nephrotoxicity"]
    for rec in recs:
        check_record(rec)
    assert "[E304]" in result.output and "docs.txt:3" in result.output
    assert "Skipped 1 bad record" in result.output and "Annotated 3 documents" in result.output


def test_text_dir_to_pubtator_round_trip(rel_pipeline_dir, tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    for i, text in enumerate(TEXTS):
        (folder / f"doc{i}.txt").write_text(text, encoding="utf8")
    (folder / "empty.txt").write_text("  \n", encoding="utf8")
    out = tmp_path / "out.pubtator"
    result = run(rel_pipeline_dir, folder, out)
    assert result.exit_code == 0, result.output
    assert "Skipped 1 bad record" in result.output and "empty document" in result.output
    docs = list(read_pubtator(out, spacy.blank("en")))
    assert [d.text for d in docs] == [TEXTS[0], TEXTS[1], TEXTS[2]]
    assert [e.text for e in docs[0].ents] == ["Cisplatin", "nephrotoxicity"]
    # Concept-level CID lines between the lexicon IDs of the demo corpus.
    rels = {(r.head_id, r.tail_id) for r in docs[0]._.relations}
    assert rels and all(h.startswith("D9") and t.startswith("D9") for h, t in rels)


def test_jsonl_with_bad_records_to_bioc(rel_pipeline_dir, tmp_path):
    inp = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": "a", "text": TEXTS[0]}),
        "{not json",
        json.dumps({"id": "c"}),
        json.dumps(["a list"]),
        json.dumps({"id": "e", "text": "   "}),
        json.dumps({"id": "f", "text": TEXTS[1]}),
    ]
    inp.write_text("\n".join(lines) + "\n", encoding="utf8")
    out = tmp_path / "out.xml"
    result = run(rel_pipeline_dir, inp, out)
    assert result.exit_code == 0, result.output
    for where in ("in.jsonl:2", "in.jsonl:3", "in.jsonl:4", "in.jsonl:5"):
        assert where in result.output
    assert "Skipped 4 bad record(s)" in result.output
    docs = list(read_bioc(out, spacy.blank("en")))
    assert [d.text.strip() for d in docs] == [TEXTS[0], TEXTS[1]]
    assert [e.text for e in docs[1].ents] == ["Lithium", "seizures", "Haloperidol", "hypotension"]
    assert all(d._.relations for d in docs)


def test_pubtator_in_keeps_ids_and_passages(rel_pipeline_dir, tmp_path):
    inp = tmp_path / "in.pubtator"
    inp.write_text(
        "111|t|Cisplatin nephrotoxicity.\n111|a|Lithium caused seizures.\n"
        "111\t0\t9\tCisplatin\tChemical\tD1\n\n"
        "222|a|an abstract without a title line\n\n"
        "333|t|Doxorubicin cardiotoxicity.\n333|a|\n\n",
        encoding="utf8",
    )
    out = tmp_path / "out.pubtator"
    result = run(rel_pipeline_dir, inp, out, "--output-format", "pubtator")
    assert result.exit_code == 0, result.output
    assert "Skipped 1 bad record" in result.output and "in.pubtator:5" in result.output
    written = out.read_text(encoding="utf8")
    # Title and abstract lines survive, so offsets still count over title + " " + abstract.
    assert "111|t|Cisplatin nephrotoxicity.\n111|a|Lithium caused seizures.\n" in written
    assert "333|t|Doxorubicin cardiotoxicity.\n" in written
    docs = list(read_pubtator(out, spacy.blank("en")))
    assert [e.text for e in docs[0].ents] == ["Cisplatin", "nephrotoxicity", "Lithium", "seizures"]


def test_jsonl_round_trip_through_docs(rel_pipeline_dir, tmp_path):
    nlp = spacy.load(rel_pipeline_dir)
    doc = nlp(TEXTS[1])
    data = doc_to_json(doc, "x")
    again = json_to_doc(spacy.blank("en"), json.loads(json.dumps(data)))
    assert [(e.start_char, e.end_char, e.label_) for e in again.ents] == [
        (e.start_char, e.end_char, e.label_) for e in doc.ents
    ]
    assert sorted(map(str, (r.key() for r in again._.relations))) == sorted(
        map(str, (r.key() for r in doc._.relations))
    )
    assert doc_to_json(again, "x") == data


def test_n_process_gives_the_same_output(rel_pipeline_dir, tmp_path):
    inp = tmp_path / "docs.txt"
    inp.write_text("\n".join(TEXTS * 4) + "\n", encoding="utf8")
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert run(rel_pipeline_dir, inp, one, "--batch-size", "2").exit_code == 0
    assert run(rel_pipeline_dir, inp, two, "--batch-size", "2", "--n-process", "2").exit_code == 0
    assert read_jsonl(one) == read_jsonl(two)


def test_annotate_streams(rel_pipeline_dir):
    """Records are pulled lazily, a batch at a time, so memory does not grow with the input."""
    nlp = spacy.load(rel_pipeline_dir)
    pulled = count()

    def endless():
        for i in count():
            next(pulled)
            yield InputRecord(str(i), TEXTS[i % 3], f"gen:{i}")

    stats = AnnotateStats()
    docs = list(islice(annotate(nlp, endless(), stats=stats, batch_size=8, progress=False), 20))
    assert len(docs) == 20 and stats.n_docs == 20
    assert next(pulled) <= 8 * 4  # a few batches read ahead, not the (endless) input


@pytest.mark.parametrize("suffix", [".jsonl", ".pubtator", ".xml"])
def test_memory_zones_give_the_same_output(rel_pipeline_dir, tmp_path, suffix):
    inp = tmp_path / "docs.txt"
    inp.write_text("\n".join(f"{t} Case {i}x{i}." for i, t in enumerate(TEXTS * 4)) + "\n", encoding="utf8")
    plain, zoned = tmp_path / f"plain{suffix}", tmp_path / f"zoned{suffix}"
    assert run(rel_pipeline_dir, inp, plain, "--batch-size", "2", "--memory-zone", "0").exit_code == 0
    # zones of 5 docs with batches of 2: zones end inside batches and on batch boundaries
    assert run(rel_pipeline_dir, inp, zoned, "--batch-size", "2", "--memory-zone", "5").exit_code == 0
    assert zoned.read_text(encoding="utf8") == plain.read_text(encoding="utf8").replace("plain", "zoned")
    assert "Cisplatin" in zoned.read_text(encoding="utf8")


def test_memory_zones_free_new_strings(rel_pipeline_dir):
    """Every document brings words never seen before; in memory zones the StringStore stays put."""
    nlp = spacy.load(rel_pipeline_dir)

    def records(tag):
        return [InputRecord(str(i), f"{TEXTS[i % 3]} Patient {tag}{i}q{i * 7} recovered.", f"x:{i}")
                for i in range(24)]

    before = len(nlp.vocab.strings)
    out = [doc_to_json(d, "x") for d in annotate(nlp, records("zone"), stats=AnnotateStats(), batch_size=4,
                                                 progress=False, memory_zone=10)]
    assert len(out) == 24 and len(nlp.vocab.strings) == before
    assert out[23]["text"].endswith("zone23q161 recovered.") and out[23]["entities"]
    list(annotate(nlp, records("plain"), stats=AnnotateStats(), batch_size=4, progress=False))
    assert len(nlp.vocab.strings) >= before + 24


def test_too_long_record_is_skipped(rel_pipeline_dir):
    nlp = spacy.load(rel_pipeline_dir)
    nlp.max_length = 50
    records = [InputRecord("a", TEXTS[0], "x:1"), InputRecord("b", "word " * 20, "x:2"),
               BadRecord("x:3", "broken")]
    stats = AnnotateStats()
    docs = list(annotate(nlp, records, stats=stats, progress=False))
    assert [d.user_data["id"] for d in docs] == ["a"]
    assert [b.where for b in stats.skipped] == ["x:2", "x:3"]
    assert "nlp.max_length" in stats.skipped[0].reason


def test_input_errors(tmp_path):
    with pytest.raises(BioBertError, match=r"\[E301\]"):
        next(read_records(tmp_path / "missing.txt"))
    (tmp_path / "a.txt").write_text("x", encoding="utf8")
    with pytest.raises(BioBertError, match=r"\[E302\]"):
        next(read_records(tmp_path / "a.txt", "csv"))
    with pytest.raises(BioBertError, match=r"\[E303\]"):
        next(read_records(tmp_path, "jsonl"))
    result = runner.invoke(app, ["annotate", "model", str(tmp_path / "missing.txt"), str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1 and "[E301]" in result.output


def test_detect_input_format(tmp_path):
    (tmp_path / "p.txt").write_text("123|t|A title\n123|a|Text\n", encoding="utf8")
    (tmp_path / "l.txt").write_text("A sentence | with a bar.\n", encoding="utf8")
    (tmp_path / "j.jsonl").write_text('{"text": "x"}\n', encoding="utf8")
    assert detect_input_format(tmp_path / "p.txt") == "pubtator"
    assert detect_input_format(tmp_path / "l.txt") == "lines"
    assert detect_input_format(tmp_path / "j.jsonl") == "jsonl"
    assert detect_input_format(tmp_path) == "text"
    # A whole file as one document.
    recs = list(read_records(tmp_path / "l.txt", "text"))
    assert len(recs) == 1 and recs[0].id == "l"


def test_entities_get_ids_from_the_lexicon(rel_pipeline_dir, tmp_path):
    """An entity in no relation still gets its ID from the relation extractor's training lexicon."""
    inp = tmp_path / "docs.txt"
    inp.write_text("Gentamicin was given to rats.\n", encoding="utf8")
    out = tmp_path / "out.jsonl"
    assert run(rel_pipeline_dir, inp, out).exit_code == 0
    (rec,) = read_jsonl(out)
    assert rec["entities"] == [{"start": 0, "end": 10, "label": "Chemical", "kb_id": "D910006",
                                "text": "Gentamicin"}]
    assert rec["relations"] == []
